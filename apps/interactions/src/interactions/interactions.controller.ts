import { Body, Controller, Delete, Get, Headers, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import {
  AttachDocumentDto,
  AttachFileDto,
  CreateInteractionDto,
  DownloadDto,
  InteractionView,
  ListInteractionsQuery,
  ok,
  RecordPaymentDto,
  SetDescriptionDto,
  SetInteractionStatusDto,
  StatusOkResponse,
  UpdateInteractionDto,
} from '@papka/contracts';
import { answerCreated, IDEMPOTENCY_HEADER, idempotencyKey, ValidationFailedError } from '@papka/platform';
import { streamZip } from '../bundle/zip-stream';
import { InteractionsService } from './interactions.service';

const uuid = (name: string) =>
  new ParseUUIDPipe({ exceptionFactory: () => new ValidationFailedError({ [name]: [`${name} must be a UUID`] }, `${name} must be a UUID`) });

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
  @ApiHeader(IDEMPOTENCY_HEADER)
  async create(
    @CurrentAccount() acc: AccountContext,
    @Body() dto: CreateInteractionDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return answerCreated(res, await this.interactions.create(acc, dto, idempotencyKey(key)));
  }

  @Get('/v2/docs/contractors/:id/interactions')
  @ApiOkResponse({ type: [InteractionView] })
  listForContractor(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string, @Query() q: ListInteractionsQuery) {
    return this.interactions.listForContractor(acc, id, q);
  }

  @Get('/v2/docs/interactions/:id')
  @ApiOperation({ summary: 'One interaction (additive)' })
  @ApiOkResponse({ type: InteractionView })
  get(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string) {
    return this.interactions.get(acc, id);
  }

  @Patch('/v2/docs/interactions/:id')
  @ApiOperation({ summary: 'Rename the interaction or change its sum (additive)' })
  @ApiOkResponse({ type: StatusOkResponse })
  async update(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string, @Body() dto: UpdateInteractionDto) {
    await this.interactions.update(acc, id, dto);
    return ok();
  }

  @Delete('/v2/docs/interactions/:id')
  @ApiOkResponse({ type: StatusOkResponse })
  async remove(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string) {
    await this.interactions.remove(acc, id);
    return ok();
  }

  @Post('/v2/docs/interactions/:id/desc')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set the description; the HTML is stored sanitized' })
  @ApiOkResponse({ type: StatusOkResponse })
  async setDescription(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string, @Body() dto: SetDescriptionDto) {
    await this.interactions.setDescription(acc, id, dto.description);
    return ok();
  }

  @Post('/v2/docs/interactions/:id/status')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move the status (409 for a transition that is not allowed)' })
  @ApiOkResponse({ type: StatusOkResponse })
  async setStatus(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string, @Body() dto: SetInteractionStatusDto) {
    await this.interactions.setStatus(acc, id, dto.status);
    return ok();
  }

  @Post('/v2/docs/interactions/:id/payments')
  @ApiCreatedResponse({ type: StatusOkResponse, description: '`uuid` is the payment id' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  async recordPayment(
    @CurrentAccount() acc: AccountContext,
    @Param('id', uuid('id')) id: string,
    @Body() dto: RecordPaymentDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return answerCreated(res, await this.interactions.recordPayment(acc, id, dto, idempotencyKey(key)));
  }

  @Delete('/v2/docs/interactions/:id/payments/:paymentId')
  @ApiOperation({ summary: 'Remove a payment (additive)' })
  @ApiOkResponse({ type: StatusOkResponse })
  async removePayment(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string, @Param('paymentId', uuid('paymentId')) paymentId: string) {
    await this.interactions.removePayment(acc, id, paymentId);
    return ok();
  }

  @Post('/v2/docs/interactions/:id/documents')
  @ApiCreatedResponse({ type: StatusOkResponse })
  async attachDocument(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string, @Body() dto: AttachDocumentDto) {
    await this.interactions.attachDocument(acc, id, dto.documentId);
    return ok();
  }

  @Delete('/v2/docs/interactions/:id/documents/:documentId')
  @ApiOperation({ summary: 'Detach a document (additive); the document itself stays' })
  @ApiOkResponse({ type: StatusOkResponse })
  async detachDocument(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string, @Param('documentId', uuid('documentId')) documentId: string) {
    await this.interactions.detachDocument(acc, id, documentId);
    return ok();
  }

  @Post('/v2/docs/interactions/:id/files')
  @ApiCreatedResponse({ type: StatusOkResponse, description: '`uuid` is the attachment id' })
  async attachFile(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string, @Body() dto: AttachFileDto) {
    return ok(await this.interactions.attachFile(acc, id, dto));
  }

  @Delete('/v2/docs/interactions/:id/files/:fileId')
  @ApiOperation({ summary: 'Detach a file (additive): by its attachment uuid or its uploaded filename; the upload itself stays' })
  @ApiOkResponse({ type: StatusOkResponse })
  async detachFile(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string, @Param('fileId') fileId: string) {
    await this.interactions.detachFile(acc, id, fileId);
    return ok();
  }

  @Post('/v2/docs/interactions/:id/download')
  @HttpCode(200)
  @ApiOperation({ summary: "With documentId: that document's file. Without: a ZIP of all documents and files" })
  @ApiProduces('application/pdf', 'application/zip')
  @ApiOkResponse({ description: 'The file or the ZIP, streamed' })
  async download(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string, @Body() dto: DownloadDto, @Res() res: Response) {
    if (!dto?.documentId) return this.bundle(acc, id, res);
    const { name, file } = await this.interactions.openDocument(acc, id, dto.documentId);
    // res.attachment() writes both filename= (ASCII fallback) and filename*= (RFC 5987) for Cyrillic names.
    res.attachment(name);
    res.setHeader('Content-Type', file.contentType || 'application/octet-stream');
    res.setHeader('Content-Length', String(file.size));
    await pipeline(file.stream, res).catch(() => res.destroy());
  }

  @Get('/v2/docs/interactions/:id/bundle')
  @ApiOperation({ summary: 'A ZIP of all documents and files (additive), streamed' })
  @ApiProduces('application/zip')
  @ApiOkResponse({ description: 'The ZIP, streamed' })
  async bundle(@CurrentAccount() acc: AccountContext, @Param('id', uuid('id')) id: string, @Res() res: Response) {
    const bundle = await this.interactions.bundle(acc, id);
    res.attachment(`${bundle.name}.zip`);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('X-Bundle-Entries', String(bundle.sources.length));
    if (bundle.skipped) res.setHeader('X-Bundle-Skipped', String(bundle.skipped));
    await streamZip(bundle.sources, res);
  }
}
