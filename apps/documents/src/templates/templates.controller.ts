import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CreateTemplateDto, ListTemplatesQuery, ok, StatusOkResponse, TemplateView } from '@papka/contracts';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { uuidParam } from '@papka/platform';
import { TemplatesService } from './templates.service';

@ApiTags('templates')
@ApiBearerAuth()
@Controller('/v2/docs/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Get()
  @ApiOkResponse({ type: [TemplateView], description: 'Built-in templates first, then the account\'s own (newest first); paged over both' })
  list(@CurrentAccount() acc: AccountContext, @Query() q: ListTemplatesQuery) {
    return this.templates.list(acc, q);
  }

  @Post()
  @ApiCreatedResponse({ type: StatusOkResponse })
  async create(@CurrentAccount() acc: AccountContext, @Body() dto: CreateTemplateDto) {
    return ok(await this.templates.create(acc, dto));
  }

  @Delete(':id')
  @ApiOkResponse({ type: StatusOkResponse })
  async remove(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string) {
    await this.templates.remove(acc, id);
    return ok();
  }
}
