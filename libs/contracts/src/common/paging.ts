import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** Past these the offset leaves PostgreSQL's bigint (a 500 before): far beyond any real list. */
export const MAX_PAGE = 10_000_000;
export const MAX_OFFSET = 2_000_000_000;

/**
 * Paging for every list: `page`/`size` (1-based) or `limit`/`offset`. Lists never return
 * more than MAX_PAGE_SIZE items, whatever is asked.
 */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE, default: 1 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE)
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE_SIZE)
  size?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, description: 'Alternative to size' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_OFFSET, description: 'Alternative to page' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(MAX_OFFSET)
  offset?: number;
}

export interface Window {
  take: number;
  skip: number;
}

export function toWindow(q: PageQuery): Window {
  const take = q.limit ?? q.size ?? DEFAULT_PAGE_SIZE;
  const skip = q.offset ?? ((q.page ?? 1) - 1) * take;
  return { take, skip };
}
