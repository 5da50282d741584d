import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@papka/auth';
import { OpenApiService } from './openapi.service';

@ApiExcludeController()
@Public()
@Controller('docs')
export class DocsController {
  constructor(private readonly openApi: OpenApiService) {}

  @Get('openapi.json')
  document() {
    return this.openApi.document();
  }
}
