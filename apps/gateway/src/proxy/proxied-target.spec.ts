import { isProxiedTarget } from './proxy.handler';

/** What the proxy takes before Express: exactly what `app.use('/v2', ...)` would route to it. */
describe('isProxiedTarget', () => {
  it.each(['/v2', '/v2/', '/v2?x=1', '/v2/contractors', '/v2/docs/contractors/abc?x=1', '/V2/contractors'])('takes %s', (url) => {
    expect(isProxiedTarget(url)).toBe(true);
  });

  it.each([undefined, '', '/', '/v', '/v3/x', '/v2x', '/v20/contractors', '/health/live', '/metrics', '/docs/openapi.json', 'http://host/v2/contractors', '*'])(
    'leaves %s to Express',
    (url) => {
      expect(isProxiedTarget(url)).toBe(false);
    },
  );
});
