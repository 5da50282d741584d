import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { RecordsQuery, RecordView, RetryRecordsDto } from '@papka/contracts';
import { RecordsService } from './records.service';

@ApiTags('finance')
@ApiBearerAuth()
@Controller('/v2/finance/records')
export class RecordsController {
  constructor(private readonly records: RecordsService) {}

  @Get()
  @ApiOkResponse({ type: [RecordView] })
  list(@CurrentAccount() acc: AccountContext, @Query() q: RecordsQuery) {
    return this.records.list(acc, q);
  }

  @Post('retry')
  @HttpCode(200)
  retry(@CurrentAccount() acc: AccountContext, @Body() dto: RetryRecordsDto) {
    return this.records.retry(acc, dto);
  }
}
