import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { ContractorItemsQuery, ContractorRefView } from '../common/lists';
import { IsId, IsIsoDate, IsOmittable, IsRubles, toNumber } from '../common/validators';
import { INTERACTION_STATUSES, PAYMENT_TYPES, type InteractionStatus, type PaymentType } from './interaction-types';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const STATUS_MESSAGE = 'status must be one of 1 (new), 2 (in progress), 3 (awaiting payment), 4 (completed), 5 (cancelled)';

export class CreateInteractionDto {
  @ApiProperty({ format: 'uuid', description: 'ID контрагента' })
  @IsId('contractor must be a UUID')
  contractor!: string;

  @ApiProperty({ example: 'Разработка сайта', description: 'Название взаимодействия' })
  @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(300)
  name!: string;

  @ApiProperty({ example: 50000, description: 'Сумма взаимодействия in rubles (up to 2 decimals); stored in kopecks' })
  @Transform(toNumber)
  @IsRubles('sum must be a number of rubles with at most 2 decimals')
  @Min(0, { message: 'sum must not be negative' })
  @Max(1e12)
  sum!: number;
}

/** Additive `PATCH /v2/docs/interactions/:id`: rename the deal or change its sum. */
export class UpdateInteractionDto {
  @ApiPropertyOptional({ example: 'Разработка сайта, этап 2' })
  @IsOmittable() @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(300)
  name?: string;

  @ApiPropertyOptional({ example: 75000, description: 'rubles (up to 2 decimals)' })
  @IsOmittable()
  @Transform(toNumber)
  @IsRubles('sum must be a number of rubles with at most 2 decimals')
  @Min(0, { message: 'sum must not be negative' })
  @Max(1e12)
  sum?: number;
}

/** How long a description may be, as sent and as stored (sanitized). */
export const DESCRIPTION_MAX_CHARS = 100_000;

export class SetDescriptionDto {
  @ApiProperty({ example: '<p>Описание <b>тут</b></p>', description: 'HTML; stored sanitized (formatting, lists, tables, http/https/mailto links)' })
  @IsString() @MaxLength(DESCRIPTION_MAX_CHARS)
  description!: string;
}

export class SetInteractionStatusDto {
  @ApiProperty({ enum: INTERACTION_STATUSES, description: '1 новое, 2 в работе, 3 ждёт оплаты, 4 завершено, 5 отменено' })
  @Transform(toNumber) @IsInt({ message: STATUS_MESSAGE }) @IsIn(INTERACTION_STATUSES as unknown as number[], { message: STATUS_MESSAGE })
  status!: InteractionStatus;
}

export class RecordPaymentDto {
  @ApiProperty({ enum: PAYMENT_TYPES, description: 'Тип платежа: income (from the contractor) or outcome (to the contractor)' })
  @IsIn(PAYMENT_TYPES as unknown as string[], { message: 'type must be one of income, outcome' })
  type!: PaymentType;

  @ApiProperty({ example: 'Оплата по счёту № 15', description: 'Назначение платежа' })
  @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(500)
  name!: string;

  @ApiProperty({ example: 25000.5, description: 'Сумма in rubles (up to 2 decimals, above 0); stored in kopecks' })
  @Transform(toNumber)
  @IsRubles('sum must be a number of rubles with at most 2 decimals')
  @Min(0.01, { message: 'sum must be positive' })
  @Max(1e12)
  sum!: number;

  @ApiProperty({ example: '2025-09-22', description: 'Дата платежа, ISO 8601 (a date-time is cut to its date)' })
  @IsIsoDate('date must be an ISO date (YYYY-MM-DD)')
  date!: string;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: "Счёт контрагента: the uuid of one of the contractor's bank accounts (or its 20-digit number), or null",
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString({ message: 'contractorBank must be a bank account id of the contractor or null' })
  @MaxLength(64)
  contractorBank?: string | null;
}

export class AttachDocumentDto {
  @ApiProperty({ format: 'uuid', description: 'ID документа' })
  @IsId('documentId must be a UUID')
  documentId!: string;
}

export class AttachFileDto {
  @ApiProperty({ example: '4327f9a4e3.pdf', description: 'The filename answered by /v2/docs/upload' })
  @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(100)
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'filename must be a name answered by /v2/docs/upload' })
  filename!: string;

  @ApiProperty({ example: 'Скан договора', description: 'Название файла' })
  @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(300)
  name!: string;
}

export class DownloadDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'ID документа; without it the answer is a ZIP of all documents and files' })
  @IsOptional() @IsId('documentId must be a UUID')
  documentId?: string;
}

export class ListInteractionsQuery extends ContractorItemsQuery {
  @ApiPropertyOptional({ enum: INTERACTION_STATUSES })
  @IsOptional() @Transform(toNumber) @IsIn(INTERACTION_STATUSES as unknown as number[], { message: STATUS_MESSAGE })
  status?: number;
}

export class InteractionDocumentInfoView {
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) filename!: string | null;
  @ApiProperty({ description: 'The masks as a JSON string, as in the reference (`"{}"`)' }) masks!: string;
  @ApiProperty({ description: 'The document status (1-5)' }) status!: number;
  @ApiProperty({ description: 'rubles' }) sum!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class InteractionDocumentView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: InteractionDocumentInfoView }) information!: InteractionDocumentInfoView;
}

export class InteractionFileView {
  @ApiProperty({ format: 'uuid' }) uuid!: string;
  @ApiProperty() filename!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) contentType!: string | null;
  @ApiProperty() size!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class InteractionPaymentView {
  @ApiProperty({ format: 'uuid' }) uuid!: string;
  @ApiProperty({ enum: PAYMENT_TYPES }) type!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'rubles' }) sum!: number;
  @ApiProperty({ example: '2025-09-22' }) date!: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) contractorBank!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class InteractionView {
  @ApiProperty({ format: 'uuid' }) uuid!: string;
  @ApiProperty({ type: ContractorRefView }) contractor!: ContractorRefView;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Sanitized HTML' }) description!: string;
  @ApiProperty({ type: [InteractionDocumentView] }) documents!: InteractionDocumentView[];
  @ApiProperty({ type: [InteractionFileView] }) files!: InteractionFileView[];
  @ApiProperty({ type: [InteractionPaymentView] }) payments!: InteractionPaymentView[];
  @ApiProperty({ description: 'rubles' }) sum!: number;
  @ApiProperty({ description: 'additive: income minus outcome payments, rubles' }) paidSum!: number;
  @ApiProperty({ description: 'additive: sum minus paidSum, rubles' }) balance!: number;
  @ApiProperty({ enum: INTERACTION_STATUSES }) status!: number;
  @ApiProperty({ format: 'uuid', description: 'additive' }) contractorId!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', description: 'additive' }) updatedAt!: string;
}
