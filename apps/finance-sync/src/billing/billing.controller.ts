import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { BillingDocumentsQuery, BillingImportAccepted, BillingImportView, BillingRejectedQuery, BillingRejectedView } from './billing.dto';
import { BillingService } from './billing.service';

@ApiTags('finance')
@ApiBearerAuth()
@Controller('/v2/finance')
export class BillingController {
  constructor(private readonly billing: BillingService) {}

  /** Starts an import of the account's billing connection (or answers the one under way). */
  @Post('connections/billing/import')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: BillingImportAccepted })
  requestImport(@CurrentAccount() acc: AccountContext) {
    return this.billing.requestImport(acc);
  }

  @Get('imports/:id')
  @ApiOkResponse({ type: BillingImportView })
  getImport(@CurrentAccount() acc: AccountContext, @Param('id') id: string) {
    return this.billing.getImport(acc, id);
  }

  /** 001's shape with `uuid`, sums in kopecks, relations resolved to the imported documents; newest first. */
  @Get('billing/documents')
  @ApiOkResponse({ description: "A bare array of billing documents: 001's fields plus uuid, importedAt, updatedAt; sums in kopecks; relations with the uuid of the imported document" })
  list(@CurrentAccount() acc: AccountContext, @Query() q: BillingDocumentsQuery) {
    return this.billing.list(acc, q);
  }

  /** The documents the import set aside: the billing sent them in a form that cannot be mapped (the reason says which field); the rest was imported. */
  @Get('billing/rejected')
  @ApiOkResponse({ type: BillingRejectedView, isArray: true })
  listRejected(@CurrentAccount() acc: AccountContext, @Query() q: BillingRejectedQuery) {
    return this.billing.listRejected(acc, q);
  }
}
