import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import {
  CreateInteractionDto,
  InteractionView,
  ListInteractionsQuery,
  ok,
  SetDescriptionDto,
  SetInteractionStatusDto,
  StatusOkResponse,
  UpdateInteractionDto,
} from '@papka/contracts';
import { IdempotencyKey, IdempotentCreate, uuidParam } from '@papka/platform';
import { InteractionsService } from './interactions.service';

@ApiTags('interactions')
@ApiBearerAuth()
@Controller()
export class InteractionsController {
  constructor(private readonly interactions: InteractionsService) {}

  @Get('/v2/docs/interactions')
  @ApiOperation({ summary: 'Interactions, newest first; paged, filterable by contractor, status and createdAt' })
  @ApiOkResponse({ type: [InteractionView] })
  list(@CurrentAccount() acc: AccountContext, @Query() q: ListInteractionsQuery) {
    return this.interactions.list(acc, q);
  }

  @Post('/v2/docs/interactions')
  @ApiCreatedResponse({ type: StatusOkResponse })
  @IdempotentCreate()
  create(@CurrentAccount() acc: AccountContext, @Body() dto: CreateInteractionDto, @IdempotencyKey() key: string | undefined) {
    return this.interactions.create(acc, dto, key);
  }

  @Get('/v2/docs/contractors/:id/interactions')
  @ApiOkResponse({ type: [InteractionView] })
  listForContractor(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Query() q: ListInteractionsQuery) {
    return this.interactions.listForContractor(acc, id, q);
  }

  @Get('/v2/docs/interactions/:id')
  @ApiOperation({ summary: 'One interaction (additive)' })
  @ApiOkResponse({ type: InteractionView })
  get(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string) {
    return this.interactions.get(acc, id);
  }

  @Patch('/v2/docs/interactions/:id')
  @ApiOperation({ summary: 'Rename the interaction or change its sum (additive)' })
  @ApiOkResponse({ type: StatusOkResponse })
  async update(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Body() dto: UpdateInteractionDto) {
    await this.interactions.update(acc, id, dto);
    return ok();
  }

  @Delete('/v2/docs/interactions/:id')
  @ApiOkResponse({ type: StatusOkResponse })
  async remove(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string) {
    await this.interactions.remove(acc, id);
    return ok();
  }

  @Post('/v2/docs/interactions/:id/desc')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set the description; the HTML is stored sanitized' })
  @ApiOkResponse({ type: StatusOkResponse })
  async setDescription(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Body() dto: SetDescriptionDto) {
    await this.interactions.setDescription(acc, id, dto.description);
    return ok();
  }

  @Post('/v2/docs/interactions/:id/status')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move the status (409 for a transition that is not allowed)' })
  @ApiOkResponse({ type: StatusOkResponse })
  async setStatus(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Body() dto: SetInteractionStatusDto) {
    await this.interactions.setStatus(acc, id, dto.status);
    return ok();
  }
}
