import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsEmail,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsPhoneNumber,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
} from 'class-validator';
import { IsAccountForBik, IsBik, IsId, IsInn, toNumber, trimOrOmit } from '../common/validators';
import { PageQuery } from '../common/paging';
import { ContractorType, innLengthFor } from './contractor-type';

const CONTRACTOR_TYPES: unknown[] = [ContractorType.IndividualEntrepreneur, ContractorType.LegalEntity, ContractorType.Person];

/**
 * The INN's length for the contractor's `type` (10 digits for a legal entity, 12 otherwise),
 * reported with every other bad field of the body (it was checked after them, in the service,
 * so fixing the first 400 only led to a second one). Left to `type`'s own check when that is bad.
 */
const InnLengthForType = (): PropertyDecorator =>
  ValidateBy({
    name: 'innLengthForType',
    validator: {
      validate: (inn: unknown, args) => {
        const type = (args?.object as { type?: unknown }).type;
        return typeof inn !== 'string' || !CONTRACTOR_TYPES.includes(type) || inn.length === innLengthFor(type as ContractorType);
      },
      defaultMessage: (args) => {
        const type = (args?.object as { type: ContractorType }).type;
        return `inn must have ${innLengthFor(type)} digits for contractor type ${type}`;
      },
    },
  });

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateContractorDto {
  @ApiProperty({ enum: [1, 2, 3], description: '1 ИП, 2 юрлицо, 3 физлицо', example: 1 })
  // "1" as a form sends it, as every other number field takes it (status, sum).
  @Transform(toNumber)
  @IsIn([ContractorType.IndividualEntrepreneur, ContractorType.LegalEntity, ContractorType.Person], {
    message: 'type must be one of 1 (ИП), 2 (юрлицо), 3 (физлицо)',
  })
  type!: ContractorType;

  @ApiPropertyOptional({ example: '501817999160', description: 'ИНН: 10 digits for type 2, 12 for 1 and 3' })
  @IsOptional() @Transform(trimOrOmit) @IsString() @IsInn() @InnLengthForType()
  inn?: string;

  @ApiProperty({ example: 'ИП Артиков Тимур Дилшодович', maxLength: 500 })
  @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(500)
  name!: string;

  @ApiPropertyOptional({ example: 'Московская обл, г Щёлково', maxLength: 1000 })
  @IsOptional() @Transform(trimOrOmit) @IsString() @MaxLength(1000)
  address?: string;
}

export class AddBankAccountDto {
  @ApiProperty({ example: '044525104', description: 'БИК' })
  @Transform(trim) @IsString() @IsBik()
  bik!: string;

  @ApiProperty({ example: '40802810220000499329', description: 'Расчетный счёт, 20 digits, checked against the BIK' })
  @Transform(trim) @IsString() @IsAccountForBik('bik')
  number!: string;

  @ApiPropertyOptional({ example: 'Расчетный счёт', maxLength: 200, default: 'Расчетный счёт' })
  @IsOptional() @Transform(trimOrOmit) @IsString() @MaxLength(200)
  name?: string;
}

export class AddContactDto {
  @ApiProperty({ example: 'Тимур', maxLength: 300, description: 'ФИО' })
  @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(300)
  fio!: string;

  @ApiPropertyOptional({ example: '+7 916 123-45-67' })
  @IsOptional() @Transform(trimOrOmit) @IsPhoneNumber('RU', { message: 'phone must be a valid phone number' })
  phone?: string;

  @ApiPropertyOptional({ example: 'Директор', maxLength: 200 })
  @IsOptional() @Transform(trimOrOmit) @IsString() @MaxLength(200)
  post?: string;

  @ApiPropertyOptional({ example: 't.artikov@leecyber.com' })
  @IsOptional() @Transform(trimOrOmit) @IsEmail({}, { message: 'email must be a valid email address' }) @MaxLength(320)
  email?: string;
}

/** `DELETE .../bank` and `.../contact`: the item id, in the body or in the query. */
export class RemoveItemDto {
  @ApiProperty({ format: 'uuid' })
  @IsId('id must be a UUID')
  id!: string;
}

export class ListContractorsQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Name contains (case-insensitive)' })
  @IsOptional() @IsString() @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ description: 'Exact INN' })
  @IsOptional() @Matches(/^\d{10}(\d{2})?$/, { message: 'inn must be 10 or 12 digits' })
  inn?: string;
}

/** findOrg / findBank: the INN or BIK to look up (body, or `?query=` for GET). */
export class LookupQueryDto {
  @ApiProperty({ example: '501817999160' })
  @Transform(trim) @IsString() @Matches(/^(\d{9}|\d{10}|\d{12}|\d{13}|\d{15})$/, {
    message: 'query must be an INN (10 or 12 digits), an OGRN (13) or OGRNIP (15), or a BIK (9 digits)',
  })
  query!: string;
}

export class MainInfoView {
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) inn!: string | null;
  @ApiProperty({ nullable: true, type: String }) address!: string | null;
}

export class BankAccountView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() bik!: string;
  @ApiProperty() number!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true, description: 'DaData bank suggestion' })
  fullInfo!: Record<string, unknown> | null;
}

export class ContactView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() fio!: string;
  @ApiProperty({ nullable: true, type: String }) phone!: string | null;
  @ApiProperty({ nullable: true, type: String }) post!: string | null;
  @ApiProperty({ nullable: true, type: String }) email!: string | null;
}

export class ContractorView {
  @ApiProperty({ format: 'uuid' }) uuid!: string;
  @ApiProperty({ enum: [1, 2, 3] }) type!: ContractorType;
  @ApiProperty({ type: MainInfoView }) mainInfo!: MainInfoView;
  @ApiProperty({ type: [BankAccountView] }) bankInfo!: BankAccountView[];
  @ApiProperty({ type: [ContactView] }) contactInfo!: ContactView[];
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true, description: 'DaData party suggestion' })
  fullInfo!: Record<string, unknown> | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}
