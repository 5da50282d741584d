import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { LookupQueryDto } from '@papka/contracts';
import { fieldError } from '@papka/platform';
import { LookupService } from './lookup.service';

class OptionalQueryDto {
  @IsOptional() @IsString() @MaxLength(32)
  query?: string;
}

@ApiTags('lookup')
@ApiBearerAuth()
@Controller()
export class LookupController {
  constructor(private readonly lookup: LookupService) {}

  @Post('/v2/docs/findOrg')
  @HttpCode(200)
  @ApiOperation({ summary: 'Organisation by INN (DaData party suggestion)' })
  @ApiOkResponse({ description: 'DaData party suggestion object' })
  findOrg(@Body() body: LookupQueryDto) {
    return this.lookup.findOrg(body.query);
  }

  /** The reference sends the BIK in a GET body; `?query=` works too. */
  @Get('/v2/docs/findBank')
  @ApiOperation({ summary: 'Bank by BIK (DaData bank suggestion); BIK in the body or ?query=' })
  @ApiOkResponse({ description: 'DaData bank suggestion object' })
  findBank(@Body() body: OptionalQueryDto, @Query() q: OptionalQueryDto) {
    const query = body?.query ?? q.query;
    if (!query) throw fieldError('query', 'query (the BIK) is required, in the body or as ?query=');
    return this.lookup.findBank(query);
  }
}
