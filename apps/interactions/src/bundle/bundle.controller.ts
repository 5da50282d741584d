import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { DownloadDto } from '@papka/contracts';
import { sendFile, uuidParam } from '@papka/platform';
import { BundleService } from './bundle.service';
import { streamZip } from './zip-stream';

@ApiTags('interactions')
@ApiBearerAuth()
@Controller()
export class BundleController {
  constructor(private readonly bundles: BundleService) {}

  @Post('/v2/docs/interactions/:id/download')
  @HttpCode(200)
  @ApiOperation({ summary: "With documentId: that document's file. Without: a ZIP of all documents and files" })
  @ApiProduces('application/pdf', 'application/zip')
  @ApiOkResponse({ description: 'The file or the ZIP, streamed' })
  async download(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Body() dto: DownloadDto, @Res() res: Response) {
    if (!dto?.documentId) return this.bundle(acc, id, res);
    const { name, file } = await this.bundles.openDocument(acc, id, dto.documentId);
    // Once piped, the pipeline releases the stream; a failure before that (a header that cannot
    // be written) must not leave the storage socket or file open.
    await sendFile(res, file, name).catch((err: unknown) => {
      file.stream.destroy();
      throw err;
    });
  }

  @Get('/v2/docs/interactions/:id/bundle')
  @ApiOperation({ summary: 'A ZIP of all documents and files (additive), streamed' })
  @ApiProduces('application/zip')
  @ApiOkResponse({ description: 'The ZIP, streamed' })
  async bundle(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Res() res: Response) {
    const bundle = await this.bundles.bundle(acc, id);
    // The headers go on only once the first entry is open: a storage outage until then is a 503.
    await streamZip(bundle.sources, res, () => {
      res.attachment(`${bundle.name}.zip`);
      res.setHeader('Content-Type', 'application/zip');
      res.setHeader('X-Bundle-Entries', String(bundle.sources.length));
      if (bundle.skipped) res.setHeader('X-Bundle-Skipped', String(bundle.skipped));
    });
  }
}
