import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsId } from '../common/validators';
import { ENTITY_TYPES, FINANCE_TARGETS, PAUSE_REASONS, RECORD_STATES, type ConnectionState, type FinanceEntityType, type FinanceTarget, type PauseReason, type RecordState } from './finance-types';

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Adesk settings; ids are Adesk's own (integers). */
export class AdeskSettingsDto {
  @ApiPropertyOptional({ description: 'Adesk bank account the transactions go to; default: the first open one' })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'settings.bankAccountId must be an integer' }) @Min(1, { message: 'settings.bankAccountId must be positive' })
  bankAccountId?: number;

  @ApiPropertyOptional({ description: 'Adesk category (статья) for income transactions' })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'settings.incomeCategoryId must be an integer' }) @Min(1)
  incomeCategoryId?: number;

  @ApiPropertyOptional({ description: 'Adesk category for outcome transactions' })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'settings.outcomeCategoryId must be an integer' }) @Min(1)
  outcomeCategoryId?: number;
}

export class PutConnectionDto {
  @ApiProperty({ description: "The target's API token; stored encrypted, never answered" })
  @IsString({ message: 'token must be a string' }) @IsNotEmpty({ message: 'token must not be empty' }) @MaxLength(500, { message: 'token must be at most 500 characters' })
  token!: string;

  /**
   * The target's own settings (AdeskSettingsDto for Adesk, and so on), checked by its connector
   * (apps/finance-sync connectors' `parseSettings`): a bad one is a 400 naming `settings.<field>`.
   */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Per target; Adesk: AdeskSettingsDto' })
  @IsOptional() @IsObject({ message: 'settings must be an object' })
  settings?: Record<string, unknown>;
}

export class ConnectionView {
  @ApiProperty({ enum: FINANCE_TARGETS }) target!: FinanceTarget;
  @ApiProperty({ enum: ['active', 'paused', 'backfilling'] }) state!: ConnectionState;
  @ApiProperty({ nullable: true, enum: PAUSE_REASONS }) reason!: PauseReason | null;
  @ApiProperty() settings!: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String, description: 'Where the target posts its webhooks (unguessable per connection); null for a target without webhooks' }) webhookUrl!: string | null;
  @ApiProperty() counts!: { pending: number; synced: number; failed: number; parked: number };
  @ApiProperty() backfill!: { total: number; done: number };
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class RecordsQuery {
  @ApiPropertyOptional({ enum: FINANCE_TARGETS })
  @IsOptional() @IsIn(FINANCE_TARGETS as unknown as string[], { message: `target must be one of ${FINANCE_TARGETS.join(', ')}` })
  target?: FinanceTarget;

  @ApiPropertyOptional({ enum: RECORD_STATES })
  @IsOptional() @IsIn(RECORD_STATES as unknown as string[], { message: `state must be one of ${RECORD_STATES.join(', ')}` })
  state?: RecordState;

  @ApiPropertyOptional({ enum: ENTITY_TYPES })
  @IsOptional() @IsIn(ENTITY_TYPES as unknown as string[], { message: `entityType must be one of ${ENTITY_TYPES.join(', ')}` })
  entityType?: FinanceEntityType;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsId('entityId must be a UUID')
  entityId?: string;

  @ApiPropertyOptional({ default: 1 })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'page must be an integer' }) @Min(1, { message: 'page must be at least 1' }) @Max(1_000_000)
  page?: number;

  @ApiPropertyOptional({ default: 50 })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'size must be an integer' }) @Min(1, { message: 'size must be at least 1' }) @Max(1000, { message: 'size must be at most 1000' })
  size?: number;
}

export class RecordView {
  @ApiProperty({ enum: FINANCE_TARGETS }) target!: FinanceTarget;
  @ApiProperty({ enum: ENTITY_TYPES }) entityType!: FinanceEntityType;
  @ApiProperty({ format: 'uuid' }) entityId!: string;
  @ApiProperty({ enum: RECORD_STATES }) state!: RecordState;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true }) lastError!: string | null;
  @ApiProperty({ nullable: true }) remoteId!: string | null;
  @ApiProperty({ nullable: true }) syncedAt!: string | null;
  @ApiProperty() updatedAt!: string;
}

export class RetryRecordsDto {
  @ApiProperty({ enum: FINANCE_TARGETS })
  @IsIn(FINANCE_TARGETS as unknown as string[], { message: `target must be one of ${FINANCE_TARGETS.join(', ')}` })
  target!: FinanceTarget;

  @ApiPropertyOptional({ enum: ['failed'], description: 'Every failed record of the target' })
  @IsOptional() @IsIn(['failed'], { message: 'state must be failed' })
  state?: 'failed';

  @ApiPropertyOptional({ type: [String], description: 'Entity ids (uuid)' })
  @IsOptional() @IsArray({ message: 'ids must be an array' }) @ArrayMinSize(1, { message: 'ids must not be empty' }) @ArrayMaxSize(1000, { message: 'ids must have at most 1000 items' })
  @IsId('ids must be UUIDs', { each: true })
  ids?: string[];
}

export class ReconciliationQuery {
  @ApiProperty({ example: '2025-01-01' })
  @IsString({ message: 'from must be a date YYYY-MM-DD' }) @Matches(ISO_DAY, { message: 'from must be a date YYYY-MM-DD' })
  from!: string;

  @ApiProperty({ example: '2025-12-31' })
  @IsString({ message: 'to must be a date YYYY-MM-DD' }) @Matches(ISO_DAY, { message: 'to must be a date YYYY-MM-DD' })
  to!: string;
}

export interface ReconciliationMismatch {
  entityId: string;
  field: string;
  local: unknown;
  remote: unknown;
}

export class ReconciliationView {
  @ApiProperty({ description: 'Papka entities with no remote object' }) missingRemote!: { entityType: FinanceEntityType; entityId: string }[];
  @ApiProperty({ description: "Remote objects carrying Papka's marker for no live Papka entity" }) extraRemote!: { entityType: FinanceEntityType; remoteId: string; entityId: string | null }[];
  @ApiProperty() mismatched!: ReconciliationMismatch[];
  @ApiProperty({ description: 'Papka entities with more than one remote object' }) duplicates!: { entityType: FinanceEntityType; entityId: string; remoteIds: string[] }[];
  @ApiProperty({ description: "Whether the target's objects were listed; false: a one-sided report from Papka's side (missingRemote only)" }) remoteListed!: boolean;
}

/** An Adesk webhook delivery: `{ eventTimestamp, eventType, eventId, data: [...] }` (002 L4441). */
export class AdeskWebhookDto {
  @ApiProperty()
  @IsString({ message: 'eventId must be a string' }) @IsNotEmpty({ message: 'eventId must not be empty' }) @MaxLength(100, { message: 'eventId must be at most 100 characters' })
  eventId!: string;

  @ApiProperty()
  @IsString({ message: 'eventType must be a string' }) @IsNotEmpty({ message: 'eventType must not be empty' }) @MaxLength(100, { message: 'eventType must be at most 100 characters' })
  eventType!: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString({ message: 'eventTimestamp must be a string' }) @MaxLength(100)
  eventTimestamp?: string;

  @ApiProperty({ type: [Object] })
  @IsArray({ message: 'data must be an array' }) @ArrayMaxSize(500, { message: 'data must have at most 500 items' })
  @IsObject({ each: true, message: 'data must be an array of objects' })
  data!: Record<string, unknown>[];
}
