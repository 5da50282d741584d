import { Body, Controller, Delete, Get, Param, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { ConnectionView, ok, PutConnectionDto, StatusOkResponse } from '@papka/contracts';
import { ConnectionsService } from './connections.service';

/** The origin the caller reached us on (the gateway forwards its own), for the webhook URL. */
const originOf = (req: Request): string => {
  const proto = String(req.headers['x-forwarded-proto'] ?? req.protocol).split(',')[0]!.trim();
  const host = String(req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost').split(',')[0]!.trim();
  return `${proto}://${host}`;
};

@ApiTags('finance')
@ApiBearerAuth()
@Controller('/v2/finance/connections')
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Put(':target')
  @ApiOperation({ summary: 'Connect (or reconnect) the account to a finance target; the token is checked first' })
  @ApiOkResponse({ description: '{ status: "OK", connection }' })
  async put(@CurrentAccount() acc: AccountContext, @Param('target') target: string, @Body() dto: PutConnectionDto, @Req() req: Request) {
    return { status: 'OK' as const, connection: await this.connections.put(acc, target, dto, originOf(req)) };
  }

  @Get()
  @ApiOkResponse({ type: [ConnectionView] })
  list(@CurrentAccount() acc: AccountContext) {
    return this.connections.list(acc);
  }

  @Delete(':target')
  @ApiOperation({ summary: 'Stop syncing; what was synced stays recorded' })
  @ApiOkResponse({ type: StatusOkResponse })
  async remove(@CurrentAccount() acc: AccountContext, @Param('target') target: string) {
    await this.connections.remove(acc, target);
    return ok();
  }
}
