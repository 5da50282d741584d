import { QueryFailedError, QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { isDatabaseUnavailable, isUniqueViolation } from './errors';

describe(isDatabaseUnavailable.name, () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['an admin shutdown', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['a pool that cannot connect in time', new Error('timeout exceeded when trying to connect')],
    ['a query runner whose connection was released under it', new QueryRunnerProviderAlreadyReleasedError()],
    ['a released query runner', new QueryRunnerAlreadyReleasedError()],
  ])('is true for %s', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ['a syntax error', new QueryFailedError('SELEC 1', [], Object.assign(new Error('syntax error'), { code: '42601' }))],
    ['a unique violation', Object.assign(new Error('duplicate key'), { code: '23505' })],
    ['a plain error', new Error('boom')],
    ['a non-error', 'ECONNREFUSED'],
  ])('is false for %s', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});

describe(isUniqueViolation.name, () => {
  it('matches the constraint through the driver error', () => {
    const err = new QueryFailedError('INSERT', [], Object.assign(new Error('duplicate key'), { code: '23505', constraint: 'uq_x' }));
    expect(isUniqueViolation(err)).toBe(true);
    expect(isUniqueViolation(err, 'uq_x')).toBe(true);
    expect(isUniqueViolation(err, 'uq_y')).toBe(false);
  });
});
