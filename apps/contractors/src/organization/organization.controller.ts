import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OrganizationView, UpdateOrganizationDto } from '@papka/contracts';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { OrganizationService } from './organization.service';

/** Additive to reference 000: the account's own organisation (seller requisites). */
@ApiTags('organization')
@ApiBearerAuth()
@Controller('/v2/docs/organization')
export class OrganizationController {
  constructor(private readonly organization: OrganizationService) {}

  @Get()
  @ApiOkResponse({ type: OrganizationView })
  get(@CurrentAccount() acc: AccountContext) {
    return this.organization.get(acc);
  }

  @Put()
  @ApiOperation({ summary: 'Set the organisation; the INN look-up fills name, KPP, OGRN, address, director' })
  @ApiOkResponse({ type: OrganizationView })
  @ApiConflictResponse({ description: 'ORGANIZATION_CHANGED: a PUT received after this one was saved while this one was looking up' })
  update(@CurrentAccount() acc: AccountContext, @Body() dto: UpdateOrganizationDto) {
    return this.organization.update(acc, dto);
  }
}
