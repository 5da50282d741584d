import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import {
  AddBankAccountDto,
  AddContactDto,
  ContractorView,
  CreateContractorDto,
  IsId,
  ListContractorsQuery,
  MAX_BANK_ACCOUNTS_PER_CONTRACTOR,
  MAX_CONTACTS_PER_CONTRACTOR,
  ok,
  StatusOkResponse,
} from '@papka/contracts';
import { CurrentAccount, type AccountContext } from '@papka/auth';
import { fieldError, IdempotencyKey, IdempotentCreate, uuidParam } from '@papka/platform';
import { ContractorsService } from './contractors.service';

class OptionalItemId {
  @IsOptional() @IsId('id must be a UUID')
  id?: string;
}

/** DELETE .../bank and .../contact take the item id in the body or the query. */
function itemId(body: OptionalItemId | undefined, query: OptionalItemId): string {
  const id = body?.id ?? query.id;
  if (!id) throw fieldError('id', 'id of the item to delete is required, in the body or as ?id=');
  return id;
}

@ApiTags('contractors')
@ApiBearerAuth()
@Controller()
export class ContractorsController {
  constructor(private readonly contractors: ContractorsService) {}

  @Get('/v2/contractors')
  @ApiOperation({ summary: 'List contractors (paged; filters q = name, inn)' })
  @ApiOkResponse({ type: [ContractorView] })
  list(@CurrentAccount() acc: AccountContext, @Query() query: ListContractorsQuery) {
    return this.contractors.list(acc, query);
  }

  @Post('/v2/docs/contractors')
  @ApiOperation({ summary: 'Create a contractor; with an INN the party details are looked up into fullInfo' })
  @ApiCreatedResponse({ type: StatusOkResponse })
  @IdempotentCreate()
  create(@CurrentAccount() acc: AccountContext, @Body() dto: CreateContractorDto, @IdempotencyKey() key: string | undefined) {
    return this.contractors.create(acc, dto, key);
  }

  @Get('/v2/docs/contractors/:id')
  @ApiOkResponse({ type: ContractorView })
  get(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string) {
    return this.contractors.get(acc, id);
  }

  @Delete('/v2/docs/contractors/:id')
  @ApiOkResponse({ type: StatusOkResponse })
  async remove(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string) {
    await this.contractors.remove(acc, id);
    return ok();
  }

  @Post('/v2/docs/contractors/:id/bank')
  @ApiOperation({ summary: 'Add a bank account; the bank is looked up by BIK into fullInfo' })
  @ApiCreatedResponse({ type: StatusOkResponse })
  @ApiConflictResponse({ description: `DUPLICATE_BANK_ACCOUNT, or CONTRACTOR_LIMIT_REACHED (bankInfo) at ${MAX_BANK_ACCOUNTS_PER_CONTRACTOR} bank accounts` })
  async addBank(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Body() dto: AddBankAccountDto) {
    return ok(await this.contractors.addBankAccount(acc, id, dto));
  }

  @Delete('/v2/docs/contractors/:id/bank')
  @HttpCode(200)
  @ApiQuery({ name: 'id', required: false, description: 'bank account id (or in the body)' })
  @ApiOkResponse({ type: StatusOkResponse })
  async removeBank(
    @CurrentAccount() acc: AccountContext,
    @Param('id', uuidParam('id')) id: string,
    @Body() body: OptionalItemId,
    @Query() query: OptionalItemId,
  ) {
    await this.contractors.removeBankAccount(acc, id, itemId(body, query));
    return ok();
  }

  @Post('/v2/docs/contractors/:id/contact')
  @ApiCreatedResponse({ type: StatusOkResponse })
  @ApiConflictResponse({ description: `CONTRACTOR_LIMIT_REACHED (contactInfo) at ${MAX_CONTACTS_PER_CONTRACTOR} contacts` })
  async addContact(@CurrentAccount() acc: AccountContext, @Param('id', uuidParam('id')) id: string, @Body() dto: AddContactDto) {
    return ok(await this.contractors.addContact(acc, id, dto));
  }

  @Delete('/v2/docs/contractors/:id/contact')
  @HttpCode(200)
  @ApiQuery({ name: 'id', required: false, description: 'contact id (or in the body)' })
  @ApiOkResponse({ type: StatusOkResponse })
  async removeContact(
    @CurrentAccount() acc: AccountContext,
    @Param('id', uuidParam('id')) id: string,
    @Body() body: OptionalItemId,
    @Query() query: OptionalItemId,
  ) {
    await this.contractors.removeContact(acc, id, itemId(body, query));
    return ok();
  }
}
