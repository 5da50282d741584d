import { Controller, Get, Param, ParseIntPipe, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { fieldError, NotFoundError, sendFile } from '@papka/platform';
import { openReadyDocument, READY_DOCUMENTS } from './ready-catalog';

const idParam = new ParseIntPipe({ exceptionFactory: () => fieldError('id', 'id must be an integer') });

/** Ready-made blank forms and spreadsheets shipped with the service (same for every account). */
@ApiTags('ready')
@ApiBearerAuth()
@Controller('/v2/docs/ready')
export class ReadyController {
  @Get()
  @ApiOkResponse({ schema: { example: [{ id: 1, type: 'Налоги', title: 'Шаблон для построения финансовой модели', description: '...', file: 'shablon-finmodeli.xlsx', createdAt: '2025-09-25T10:46:41.000Z' }] } })
  list() {
    return READY_DOCUMENTS;
  }

  @Get(':id/download')
  @ApiOkResponse({ description: 'The file, streamed' })
  async download(@Param('id', idParam) id: number, @Res() res: Response) {
    const file = await openReadyDocument(id);
    if (!file) throw new NotFoundError('ready document');
    await sendFile(res, file, file.filename);
  }
}
