import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { LookupQueryDto } from '../contractors/contractor.dto';
import { MAX_OFFSET, MAX_PAGE, PageQuery, toWindow } from './paging';

const problems = <T extends object>(cls: new () => T, query: Record<string, string>) =>
  validateSync(plainToInstance(cls, query)).map((e) => e.property);

describe(PageQuery.name, () => {
  it('refuses a page or offset past what PostgreSQL can skip (a 500 before), naming the field', () => {
    expect(problems(PageQuery, { page: '99999999999999999999' })).toEqual(['page']);
    expect(problems(PageQuery, { page: String(MAX_PAGE + 1) })).toEqual(['page']);
    expect(problems(PageQuery, { offset: '1e300' })).toEqual(['offset']);
    expect(problems(PageQuery, { offset: String(MAX_OFFSET + 1) })).toEqual(['offset']);
  });

  it('takes the largest page and offset it allows, whose window stays a safe integer', () => {
    expect(problems(PageQuery, { page: String(MAX_PAGE), size: '200' })).toEqual([]);
    expect(problems(PageQuery, { offset: String(MAX_OFFSET) })).toEqual([]);
    const { skip } = toWindow(plainToInstance(PageQuery, { page: String(MAX_PAGE), size: '200' }));
    expect(Number.isSafeInteger(skip)).toBe(true);
  });
});

describe(LookupQueryDto.name, () => {
  it.each(['7707083893', '501817999160', '1027700132195', '324508100678148', '044525225'])('takes %s (INN, OGRN, OGRNIP or BIK)', (query) => {
    expect(problems(LookupQueryDto, { query })).toEqual([]);
  });

  it.each(['12345678901', '12345678', '77070838931234567', 'ИНН7707083893'])('refuses %s', (query) => {
    expect(problems(LookupQueryDto, { query })).toEqual(['query']);
  });
});
