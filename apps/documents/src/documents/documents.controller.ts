import { Body, Controller, Delete, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { ConstructorDto, DocumentView, ListDocumentsQuery, ok, SetDocumentStatusDto, StatusOkResponse } from '@papka/contracts';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { answerCreated, IDEMPOTENCY_HEADER, idempotencyKey, ValidationFailedError } from '@papka/platform';
import { DocumentsService } from './documents.service';

const uuidParam = new ParseUUIDPipe({ exceptionFactory: () => new ValidationFailedError({ id: ['id must be a UUID'] }, 'id must be a UUID') });
const EXTENSIONS: Record<string, string> = {
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
};

@ApiTags('documents')
@ApiBearerAuth()
@Controller()
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  @Post('/v2/docs/constructor')
  @ApiOperation({ summary: 'Make a document from a template (or an uploaded HTML/DOCX) and masks; rendered asynchronously' })
  @ApiCreatedResponse({ type: StatusOkResponse })
  @ApiHeader(IDEMPOTENCY_HEADER)
  async construct(
    @CurrentAccount() acc: AccountContext,
    @Body() dto: ConstructorDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return answerCreated(res, await this.documents.construct(acc, dto, idempotencyKey(key)));
  }

  @Get('/v2/docs/documents')
  @ApiOkResponse({ type: [DocumentView] })
  list(@CurrentAccount() acc: AccountContext, @Query() q: ListDocumentsQuery) {
    return this.documents.list(acc, q);
  }

  @Get('/v2/docs/contractors/:id/documents')
  @ApiOkResponse({ type: [DocumentView] })
  listForContractor(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam) id: string, @Query() q: ListDocumentsQuery) {
    return this.documents.listForContractor(acc, id, q);
  }

  @Post('/v2/docs/documents/:id')
  @HttpCode(200)
  @ApiOkResponse({ type: StatusOkResponse })
  async setStatus(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam) id: string, @Body() dto: SetDocumentStatusDto) {
    await this.documents.setStatus(acc, id, dto.status);
    return ok();
  }

  @Delete('/v2/docs/documents/:id')
  @ApiOkResponse({ type: StatusOkResponse })
  async remove(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam) id: string) {
    await this.documents.remove(acc, id);
    return ok();
  }

  /** The reference also has the singular form. */
  @Delete('/v2/docs/document/:id')
  @ApiOkResponse({ type: StatusOkResponse })
  async removeAlias(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam) id: string) {
    return this.remove(acc, id);
  }

  @Get('/v2/docs/documents/:id/download')
  @ApiProduces('application/pdf', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document')
  @ApiOkResponse({ description: 'The file, streamed' })
  async download(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam) id: string, @Res() res: Response) {
    const { doc, file } = await this.documents.open(acc, id);
    const ext = EXTENSIONS[file.contentType] ?? doc.filename?.split('.').pop() ?? 'bin';
    // res.attachment() writes both filename= (ASCII fallback) and filename*= (RFC 5987) for Cyrillic names.
    res.attachment(`${doc.name.replace(/[/\\]/g, '_')}.${ext}`);
    res.setHeader('Content-Type', file.contentType);
    res.setHeader('Content-Length', String(file.size));
    await pipeline(file.stream, res).catch(() => res.destroy());
  }
}
