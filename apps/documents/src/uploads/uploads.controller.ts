import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { UploadsService } from './uploads.service';

@ApiTags('uploads')
@ApiBearerAuth()
@Controller()
export class UploadsController {
  constructor(private readonly uploads: UploadsService) {}

  @Post('/v2/docs/upload')
  @HttpCode(200)
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } })
  @ApiOkResponse({ schema: { example: { status: 'OK', filename: '50fc45c8d1.pdf', uuid: '7d3c...' } } })
  async upload(@CurrentAccount() acc: AccountContext, @Req() req: Request) {
    const row = await this.uploads.upload(acc, req);
    return { status: 'OK', filename: row.filename, uuid: row.id };
  }
}
