import { snakeCase } from './snake-naming.strategy';

describe(snakeCase.name, () => {
  it.each([
    ['accountId', 'account_id'],
    ['fullInfo', 'full_info'],
    ['HTTPRequest', 'http_request'],
    ['createdAt', 'created_at'],
    ['already_snake', 'already_snake'],
  ])('%s -> %s', (input, expected) => {
    expect(snakeCase(input)).toBe(expected);
  });
});
