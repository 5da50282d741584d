import { Body, Controller, Delete, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { ok, RecordPaymentDto, StatusOkResponse } from '@papka/contracts';
import { IdempotencyKey, IdempotentCreate, uuidParam } from '@papka/platform';
import { PaymentsService } from './payments.service';

@ApiTags('interactions')
@ApiBearerAuth()
@Controller()
export class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  @Post('/v2/docs/interactions/:id/payments')
  @ApiCreatedResponse({ type: StatusOkResponse, description: '`uuid` is the payment id' })
  @IdempotentCreate()
  record(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Body() dto: RecordPaymentDto, @IdempotencyKey() key: string | undefined) {
    return this.payments.record(acc, id, dto, key);
  }

  @Delete('/v2/docs/interactions/:id/payments/:paymentId')
  @ApiOperation({ summary: 'Remove a payment (additive)' })
  @ApiOkResponse({ type: StatusOkResponse })
  async remove(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Param('paymentId', uuidParam('paymentId')) paymentId: string) {
    await this.payments.remove(acc, id, paymentId);
    return ok();
  }
}
