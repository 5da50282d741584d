import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateIf, ValidateNested } from 'class-validator';
import { IsAccountForBik, IsBik, IsInn, IsOmittable, trimOrOmit } from '../common/validators';
import { BankAccountView } from '../contractors/contractor.dto';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class OrganizationBankAccountDto {
  @ApiProperty({ example: '044525104' })
  @Transform(trim) @IsString() @IsBik()
  bik!: string;

  @ApiProperty({ example: '40802810220000499329' })
  @Transform(trim) @IsString() @IsAccountForBik('bik')
  number!: string;

  @ApiPropertyOptional({ example: 'Расчетный счёт' })
  @IsOptional() @Transform(trimOrOmit) @IsString() @MaxLength(200)
  name?: string;
}

/**
 * The VAT rates a document may name (the built-ins' `vatRate` mask, the organisation's default):
 * percent as a string, or "none" (Без НДС: not a VAT payer, e.g. on УСН without VAT).
 */
export const VAT_RATE_VALUES = ['22', '20', '10', '7', '5', '0', 'none'] as const;
export type VatRateValue = (typeof VAT_RATE_VALUES)[number];

/** PUT /v2/docs/organization: the account's own requisites; the INN look-up fills the rest. */
export class UpdateOrganizationDto {
  @ApiProperty({ example: '7707083893' })
  @Transform(trim) @IsString() @IsInn()
  inn!: string;

  @ApiPropertyOptional({ example: '773601001', description: 'КПП; taken from the look-up when omitted' })
  @IsOptional() @Transform(trimOrOmit) @Matches(/^\d{4}[\dA-Z]{2}\d{3}$/, { message: 'kpp must be 9 characters: 4 digits, 2 digits or capital letters, 3 digits' })
  kpp?: string;

  @ApiPropertyOptional({ description: 'Taken from the look-up when omitted' })
  @IsOptional() @Transform(trimOrOmit) @IsString() @MaxLength(500)
  name?: string;

  @ApiPropertyOptional()
  @IsOptional() @Transform(trimOrOmit) @IsString() @MaxLength(1000)
  address?: string;

  @ApiPropertyOptional({ example: 'Иванов Иван Иванович', description: 'Руководитель' })
  @IsOptional() @Transform(trimOrOmit) @IsString() @MaxLength(300)
  director?: string;

  @ApiPropertyOptional({ example: 'Генеральный директор' })
  @IsOptional() @Transform(trimOrOmit) @IsString() @MaxLength(200)
  directorPost?: string;

  @ApiPropertyOptional({
    enum: VAT_RATE_VALUES,
    nullable: true,
    description:
      'The VAT of its documents when a document names none: "none" (Без НДС, e.g. УСН) or a rate. null: the base rate of the document\'s date (22 % from 2026). Kept as it was when omitted',
  })
  @ValidateIf((o: UpdateOrganizationDto) => o.vatRate !== null && o.vatRate !== undefined)
  @IsIn(VAT_RATE_VALUES, { message: `vatRate must be one of ${VAT_RATE_VALUES.join(', ')}, or null` })
  vatRate?: VatRateValue | null;

  @ApiPropertyOptional({ type: [OrganizationBankAccountDto], description: 'Replaces the bank accounts; the first one goes on invoices' })
  // Omitted: kept as they are. null is refused (it read as "clear them" and kept them); [] clears.
  @IsOmittable() @IsArray({ message: 'bankAccounts must be an array ([] removes them all)' }) @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => OrganizationBankAccountDto)
  bankAccounts?: OrganizationBankAccountDto[];
}

export class OrganizationView {
  @ApiProperty() inn!: string;
  @ApiProperty({ nullable: true, type: String }) kpp!: string | null;
  @ApiProperty({ nullable: true, type: String }) ogrn!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) address!: string | null;
  @ApiProperty({ nullable: true, type: String }) director!: string | null;
  @ApiProperty({ nullable: true, type: String }) directorPost!: string | null;
  @ApiProperty({ nullable: true, enum: VAT_RATE_VALUES }) vatRate!: VatRateValue | null;
  @ApiProperty({ type: [BankAccountView] }) bankAccounts!: BankAccountView[];
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true }) fullInfo!: Record<string, unknown> | null;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}
