import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNotIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ContractorItemsQuery, ContractorRefView } from '../common/lists';
import { PageQuery } from '../common/paging';
import { IsId, IsOmittable, IsRubles, toNumber } from '../common/validators';
import { DOCUMENT_STATUSES, type DocumentStatus } from './document-types';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const MASK_TYPES = ['string', 'text', 'number', 'money', 'date', 'boolean', 'lines'] as const;

/** What a form or a loosely typed client sends for a boolean. */
const BOOLEAN_TEXT = new Map<unknown, boolean>([['true', true], ['false', false], [1, true], [0, false], ['1', true], ['0', false]]);

/**
 * Names a template's masks may not take: the renderer gives a template its own data under them
 * (`{{contractor.name}}`, `{{document.sum}}`, `{{organization.*}}`, `{{masks.x}}`), which would
 * hide the mask's value (the PDF printed "[object Object]").
 */
export const RESERVED_MASK_IDS = ['contractor', 'document', 'organization', 'masks'] as const;

export class MaskDefDto {
  @ApiProperty({ example: 'docNumber', description: `letters, digits and _; not one of the reserved names ${RESERVED_MASK_IDS.join(', ')}` })
  @IsString() @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { message: 'id must be a name of letters, digits and _' })
  @IsNotIn(RESERVED_MASK_IDS as unknown as string[], {
    message: ({ value }) => `id "${String(value)}" is reserved: ${RESERVED_MASK_IDS.join(', ')} are the template's own data (contractor, document, organisation, all masks)`,
  })
  id!: string;

  @ApiProperty({ example: 'Номер документа' })
  @IsString() @IsNotEmpty() @MaxLength(200)
  name!: string;

  @ApiProperty({ enum: MASK_TYPES, example: 'number' })
  @IsIn(MASK_TYPES as unknown as string[])
  type!: (typeof MASK_TYPES)[number];

  @ApiPropertyOptional({ default: false })
  // "true"/"false", 1/0 ("1"/"0") too; anything else is a 400 (Boolean("false") made the mask required).
  @IsOptional() @Transform(({ value }: { value: unknown }) => (BOOLEAN_TEXT.has(value) ? BOOLEAN_TEXT.get(value) : value)) @IsBoolean({ message: 'required must be true or false' })
  required?: boolean;
}

export class CreateTemplateDto {
  @ApiProperty({ example: 'Тестовый документ' })
  @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(200)
  name!: string;

  @ApiProperty({ example: '4327f9a4e3.docx', description: 'A file uploaded with /v2/docs/upload (HTML or DOCX)' })
  @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(100)
  filename!: string;

  @ApiProperty({ type: [MaskDefDto] })
  @IsArray() @ValidateNested({ each: true }) @Type(() => MaskDefDto)
  masks!: MaskDefDto[];

  @ApiPropertyOptional({ example: 'Arial', default: 'Arial' })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(100)
  font?: string;
}

export class ConstructorDto {
  @ApiProperty({ example: 'Счёт', description: 'Тип документа (free text, used for filtering)' })
  @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(100)
  type!: string;

  @ApiPropertyOptional({ description: 'An uploaded HTML/DOCX file used as the template (or give `template`)' })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(100)
  filename?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A template uuid (built-in or uploaded), instead of `filename`' })
  // Kept in lower case, as stored and as events carry it (a built-in is known by its uuid).
  @IsOptional() @IsId('template must be a UUID')
  template?: string;

  @ApiProperty({ example: 'Счёт № 15' })
  @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(300)
  name!: string;

  @ApiProperty({ format: 'uuid', description: 'ID контрагента' })
  @IsId('contractor must be a UUID')
  contractor!: string;

  @ApiPropertyOptional({ example: 50000, description: 'Сумма in rubles (up to 2 decimals); stored in kopecks' })
  @IsOmittable() @Transform(toNumber) @IsRubles('sum must be a number of rubles with at most 2 decimals') @Min(0) @Max(1e12)
  sum?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { number: '15', lines: [{ title: 'Разработка', measure: 'усл.', quantity: 1, price: 5000000 }] } })
  @IsOptional() @IsObject()
  masks?: Record<string, unknown>;
}

/** GET /v2/docs/templates: paged as every list (built-ins first, then the account's own). */
export class ListTemplatesQuery extends PageQuery {}

export class SetDocumentStatusDto {
  @ApiProperty({ enum: DOCUMENT_STATUSES, description: '1 черновик, 2 отправлен, 3 подписан, 4 оплачен, 5 отменён' })
  @Type(() => Number) @IsInt() @IsIn(DOCUMENT_STATUSES as unknown as number[], { message: 'status must be one of 1 (draft), 2 (sent), 3 (signed), 4 (paid), 5 (cancelled)' })
  status!: DocumentStatus;
}

export class ListDocumentsQuery extends ContractorItemsQuery {
  @ApiPropertyOptional({ enum: DOCUMENT_STATUSES })
  @IsOptional() @Type(() => Number) @IsIn(DOCUMENT_STATUSES as unknown as number[], { message: 'status must be one of 1-5' })
  status?: number;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(100)
  type?: string;
}

export class DocumentView {
  @ApiProperty({ format: 'uuid' }) uuid!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: DOCUMENT_STATUSES }) status!: number;
  @ApiProperty({ nullable: true, type: String }) filename!: string | null;
  @ApiProperty({ type: ContractorRefView, nullable: true }) contractor!: ContractorRefView | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) masks!: Record<string, unknown>;
  @ApiProperty({ description: 'rubles' }) sum!: number;
  @ApiProperty() type!: string;
  @ApiProperty({ enum: ['pending', 'rendered', 'failed'], description: 'additive: where producing the file stands' }) renderState!: string;
  @ApiProperty({ nullable: true, type: String }) renderError!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class TemplateView {
  @ApiProperty({ format: 'uuid' }) uuid!: string;
  @ApiProperty() name!: string;
  @ApiProperty() filename!: string;
  @ApiProperty({ type: [MaskDefDto] }) masks!: MaskDefDto[];
  @ApiProperty() font!: string;
  @ApiProperty({ description: 'additive: true for templates shipped with Papka' }) builtin!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}
