import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { ReconciliationQuery, ReconciliationView } from '@papka/contracts';
import { ReconciliationService } from './reconciliation.service';

@ApiTags('finance')
@ApiBearerAuth()
@Controller('/v2/finance/reconciliation')
export class ReconciliationController {
  constructor(private readonly reconciliation: ReconciliationService) {}

  @Get(':target')
  @ApiOkResponse({ type: ReconciliationView })
  report(@CurrentAccount() acc: AccountContext, @Param('target') target: string, @Query() q: ReconciliationQuery) {
    return this.reconciliation.report(acc, target, q);
  }
}
