import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** `{ status: "OK" }`, the answer to every mutation; creates also carry the new `uuid`. */
export class StatusOkResponse {
  @ApiProperty({ example: 'OK', enum: ['OK'] })
  status!: 'OK';

  @ApiPropertyOptional({ format: 'uuid', description: 'Id of the created item (create calls only)' })
  uuid?: string;
}

export class ErrorResponse {
  @ApiProperty({ example: 'ERROR', enum: ['ERROR'] })
  status!: 'ERROR';

  @ApiProperty({ example: 'VALIDATION_FAILED' })
  code!: string;

  @ApiProperty({ example: 'Validation failed' })
  message!: string;

  @ApiPropertyOptional({
    description: 'Field name -> messages',
    example: { inn: ['inn must be a valid INN (10 or 12 digits with a correct check digit)'] },
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
  })
  errors?: Record<string, string[]>;
}

export const ok = (uuid?: string): StatusOkResponse =>
  uuid === undefined ? { status: 'OK' } : { status: 'OK', uuid };
