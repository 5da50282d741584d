import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { BILLING_DOCUMENT_STATUSES, BILLING_DOCUMENT_TYPES, type BillingDocumentStatus, type BillingDocumentType } from '@papka/contracts';

/** `2026-12-01` (the whole day) or `2026-12-01T10:00:00`, Moscow time like 001's own dates. */
const DAY_OR_MOMENT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$/;

/** A page of a billing list: `page` (from 1) and `size` (50, at most 1000). */
export class BillingRejectedQuery {
  @ApiPropertyOptional({ default: 1 })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'page must be an integer' }) @Min(1, { message: 'page must be at least 1' }) @Max(1_000_000, { message: 'page must be at most 1000000' })
  page?: number;

  @ApiPropertyOptional({ default: 50 })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'size must be an integer' }) @Min(1, { message: 'size must be at least 1' }) @Max(1000, { message: 'size must be at most 1000' })
  size?: number;
}

export class BillingDocumentsQuery extends BillingRejectedQuery {
  @ApiPropertyOptional({ enum: BILLING_DOCUMENT_TYPES })
  @IsOptional() @IsIn(BILLING_DOCUMENT_TYPES as unknown as string[], { message: `type must be one of ${BILLING_DOCUMENT_TYPES.join(', ')}` })
  type?: BillingDocumentType;

  @ApiPropertyOptional({ enum: BILLING_DOCUMENT_STATUSES })
  @IsOptional() @IsIn(BILLING_DOCUMENT_STATUSES as unknown as string[], { message: `status must be one of ${BILLING_DOCUMENT_STATUSES.join(', ')}` })
  status?: BillingDocumentStatus;

  @ApiPropertyOptional({ example: '2026-01-01', description: 'Document date from (inclusive), YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss, Moscow time' })
  @IsOptional() @IsString({ message: 'from must be a date YYYY-MM-DD' }) @Matches(DAY_OR_MOMENT, { message: 'from must be a date YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-31', description: 'Document date to (inclusive: a day means its end)' })
  @IsOptional() @IsString({ message: 'to must be a date YYYY-MM-DD' }) @Matches(DAY_OR_MOMENT, { message: 'to must be a date YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss' })
  to?: string;

}

export class BillingImportAccepted {
  @ApiProperty({ example: 'OK' }) status!: 'OK';
  @ApiProperty({ format: 'uuid', description: 'GET /v2/finance/imports/:id shows its progress' }) importId!: string;
}

export class BillingImportView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['running', 'interrupted', 'done', 'failed'], description: 'interrupted: the billing failed mid-scan; it continues where it stopped' })
  state!: 'running' | 'interrupted' | 'done' | 'failed';
  @ApiProperty({ description: 'Pages stored so far' }) pages!: number;
  @ApiProperty({ description: 'Documents read so far (new, changed or unchanged)' }) documents!: number;
  @ApiProperty({ description: 'Documents set aside so far: the billing sent them in a form that cannot be mapped (GET /v2/finance/billing/rejected names them and why); the rest was imported' })
  rejected!: number;
  @ApiProperty({ nullable: true }) error!: string | null;
  @ApiProperty() startedAt!: string;
  @ApiProperty({ nullable: true }) finishedAt!: string | null;
}


/** A billing document the import set aside (quarantined): it could not be mapped, so it is not in the documents list. */
export class BillingRejectedView {
  @ApiProperty({ nullable: true, example: 'BILL', description: "001's type as the billing sent it, or null when it had none" }) type!: string | null;
  @ApiProperty({ nullable: true, example: '1025', description: "001's id, or null when it had none" }) id!: string | null;
  @ApiProperty({ nullable: true, example: '2021-06-03 15:17:42' }) date!: string | null;
  @ApiProperty({ example: 'status "CANCELLED" is not one of NEW, AWAITING_PAYMENT, PARTIALLY_PAID, PAID, EXPIRED' }) reason!: string;
  @ApiProperty({ description: 'The document as the billing sent it' }) raw!: unknown;
  @ApiProperty({ nullable: true, format: 'uuid', description: 'The import that last set it aside' }) importId!: string | null;
  @ApiProperty() firstSeenAt!: string;
  @ApiProperty() lastSeenAt!: string;
}
