import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@papka/auth';
import { AdeskWebhookDto, ok, StatusOkResponse } from '@papka/contracts';
import { WebhooksService } from './webhooks.service';

@ApiTags('finance')
@Controller('/v2/finance/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** Public: Adesk sends no credentials; the path token is the connection's secret. Exactly 200 when taken (Adesk redelivers on anything else). */
  @Post('adesk/:hookToken')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Adesk webhook (no bearer; the path token names the connection)' })
  @ApiOkResponse({ type: StatusOkResponse })
  async adesk(@Param('hookToken') hookToken: string, @Body() body: AdeskWebhookDto) {
    await this.webhooks.receive('adesk', hookToken, body);
    return ok();
  }
}
