import { redactUrl } from './redact-url';

describe(redactUrl.name, () => {
  it('masks the hook token of a webhook path, keeping the target and the query', () => {
    expect(redactUrl('/v2/finance/webhooks/adesk/Zx9_secret-Token')).toBe('/v2/finance/webhooks/adesk/[redacted]');
    expect(redactUrl('/v2/finance/webhooks/adesk/Zx9?x=1')).toBe('/v2/finance/webhooks/adesk/[redacted]?x=1');
    expect(redactUrl('http://finance-sync:3004/v2/finance/webhooks/adesk/Zx9/')).toBe('http://finance-sync:3004/v2/finance/webhooks/adesk/[redacted]/');
  });

  it('leaves every other URL alone', () => {
    for (const url of ['/v2/finance/connections/adesk', '/v2/finance/webhooks/adesk', '/v2/docs/contractors/abc', '/health/ready']) expect(redactUrl(url)).toBe(url);
  });
});
