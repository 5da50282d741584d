import { Body, Controller, Delete, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { AttachDocumentDto, AttachFileDto, ok, StatusOkResponse } from '@papka/contracts';
import { uuidParam } from '@papka/platform';
import { AttachmentsService } from './attachments.service';

@ApiTags('interactions')
@ApiBearerAuth()
@Controller()
export class AttachmentsController {
  constructor(private readonly attachments: AttachmentsService) {}

  @Post('/v2/docs/interactions/:id/documents')
  @ApiCreatedResponse({ type: StatusOkResponse })
  async attachDocument(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Body() dto: AttachDocumentDto) {
    await this.attachments.attachDocument(acc, id, dto.documentId);
    return ok();
  }

  @Delete('/v2/docs/interactions/:id/documents/:documentId')
  @ApiOperation({ summary: 'Detach a document (additive); the document itself stays' })
  @ApiOkResponse({ type: StatusOkResponse })
  async detachDocument(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Param('documentId', uuidParam('documentId')) documentId: string) {
    await this.attachments.detachDocument(acc, id, documentId);
    return ok();
  }

  @Post('/v2/docs/interactions/:id/files')
  @ApiCreatedResponse({ type: StatusOkResponse, description: '`uuid` is the attachment id' })
  async attachFile(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Body() dto: AttachFileDto) {
    return ok(await this.attachments.attachFile(acc, id, dto));
  }

  @Delete('/v2/docs/interactions/:id/files/:fileId')
  @ApiOperation({ summary: 'Detach a file (additive): by its attachment uuid or its uploaded filename; the upload itself stays' })
  @ApiOkResponse({ type: StatusOkResponse })
  async detachFile(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Param('fileId') fileId: string) {
    await this.attachments.detachFile(acc, id, fileId);
    return ok();
  }
}
