import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ConstructorDto, DocumentView, ListDocumentsQuery, ok, SetDocumentStatusDto, StatusOkResponse } from '@papka/contracts';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { IdempotencyKey, IdempotentCreate, sendFile, uuidParam } from '@papka/platform';
import { DocumentsService } from './documents.service';

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
  @IdempotentCreate()
  construct(@CurrentAccount() acc: AccountContext, @Body() dto: ConstructorDto, @IdempotencyKey() key: string | undefined) {
    return this.documents.construct(acc, dto, key);
  }

  @Get('/v2/docs/documents')
  @ApiOkResponse({ type: [DocumentView] })
  list(@CurrentAccount() acc: AccountContext, @Query() q: ListDocumentsQuery) {
    return this.documents.list(acc, q);
  }

  @Get('/v2/docs/contractors/:id/documents')
  @ApiOkResponse({ type: [DocumentView] })
  listForContractor(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Query() q: ListDocumentsQuery) {
    return this.documents.listForContractor(acc, id, q);
  }

  @Post('/v2/docs/documents/:id')
  @HttpCode(200)
  @ApiOkResponse({ type: StatusOkResponse })
  async setStatus(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Body() dto: SetDocumentStatusDto) {
    await this.documents.setStatus(acc, id, dto.status);
    return ok();
  }

  /** Not in the reference: renders a failed document again (409 for one that has not failed). */
  @Post('/v2/docs/documents/:id/render')
  @HttpCode(202)
  @ApiOperation({ summary: 'Render a failed document again; the outcome shows in renderState' })
  @ApiAcceptedResponse({ type: StatusOkResponse })
  async rerender(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string) {
    await this.documents.rerender(acc, id);
    return ok();
  }

  @Delete('/v2/docs/documents/:id')
  @ApiOkResponse({ type: StatusOkResponse })
  async remove(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string) {
    await this.documents.remove(acc, id);
    return ok();
  }

  /** The reference also has the singular form. */
  @Delete('/v2/docs/document/:id')
  @ApiOkResponse({ type: StatusOkResponse })
  async removeAlias(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string) {
    return this.remove(acc, id);
  }

  @Get('/v2/docs/documents/:id/download')
  @ApiProduces('application/pdf', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document')
  @ApiOkResponse({ description: 'The file, streamed' })
  async download(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Res() res: Response) {
    const { doc, file } = await this.documents.open(acc, id);
    const ext = EXTENSIONS[file.contentType] ?? doc.filename?.split('.').pop() ?? 'bin';
    await sendFile(res, file, `${doc.name.replace(/[/\\]/g, '_')}.${ext}`);
  }
}
