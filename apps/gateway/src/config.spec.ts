import { loadGatewayConfig } from './config';

describe(loadGatewayConfig.name, () => {
  const env = { NODE_ENV: 'test', AUTH_JWT_SECRET: 'x'.repeat(40) };

  it('takes http(s) upstream URLs', () => {
    expect(loadGatewayConfig({ ...env, CONTRACTORS_URL: 'http://contractors:3001', DOCUMENTS_URL: 'https://documents.internal' })).toMatchObject({
      CONTRACTORS_URL: 'http://contractors:3001',
      DOCUMENTS_URL: 'https://documents.internal',
    });
  });

  it.each([
    ['ftp://contractors:21', 'must be an http:// or https:// URL'],
    ['http://contractors:3001/?tenant=a', 'must have no query string or fragment'],
    ['contractors:3001', 'must be an http:// or https:// URL'],
    ['not a url', 'Invalid url'],
  ])('refuses CONTRACTORS_URL=%s at start-up, naming the variable (%s)', (value, reason) => {
    expect(() => loadGatewayConfig({ ...env, CONTRACTORS_URL: value })).toThrow(new RegExp(`CONTRACTORS_URL.*${reason}`, 'i'));
  });

  it('defaults the proxy idle limits and the trusted hops, and refuses nonsense naming the variable', () => {
    expect(loadGatewayConfig(env)).toMatchObject({ PROXY_BODY_IDLE_MS: 30_000, PROXY_RESPONSE_IDLE_MS: 60_000, TRUST_PROXY_HOPS: 0 });
    expect(() => loadGatewayConfig({ ...env, TRUST_PROXY_HOPS: '-1' })).toThrow(/TRUST_PROXY_HOPS/);
    expect(() => loadGatewayConfig({ ...env, PROXY_BODY_IDLE_MS: 'soon' })).toThrow(/PROXY_BODY_IDLE_MS/);
  });
});
