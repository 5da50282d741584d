import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsId, IsIsoDate } from './validators';
import { PageQuery } from './paging';

/** Paging plus the filters every list of a contractor's things has: contractor and createdAt range. */
export class ContractorItemsQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsId('contractor must be a UUID')
  contractor?: string;

  @ApiPropertyOptional({ description: 'createdAt from (ISO date)' })
  @IsOptional() @IsIsoDate('from must be an ISO date (YYYY-MM-DD) or date-time', { basic: true })
  from?: string;

  @ApiPropertyOptional({ description: 'createdAt to, exclusive (ISO date)' })
  @IsOptional() @IsIsoDate('to must be an ISO date (YYYY-MM-DD) or date-time', { basic: true })
  to?: string;
}

/** A contractor as embedded in documents and interactions: `{ name, inn, address }`. */
export class ContractorRefView {
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) inn!: string | null;
  @ApiProperty({ nullable: true, type: String }) address!: string | null;
}
