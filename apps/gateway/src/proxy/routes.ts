/** The services behind the gateway. */
export type Upstream = 'contractors' | 'documents' | 'interactions' | 'finance-sync';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteDef {
  method: Method;
  /** Express-style path, `:name` for a segment. */
  path: string;
  upstream: Upstream;
  /** Body cap; defaults to BODY_LIMIT_BYTES. */
  body?: 'json' | 'upload';
  /**
   * No bearer token: the caller is an outside system that cannot hold one (Adesk's webhooks).
   * The service behind it authenticates the request itself (the unguessable hook token in the
   * path), and the gateway rate-limits it per path instead of per account.
   */
  public?: boolean;
}

const r = (method: Method, path: string, upstream: Upstream, body?: RouteDef['body'], o: { public?: boolean } = {}): RouteDef => ({
  method,
  path,
  upstream,
  body,
  ...(o.public ? { public: true } : {}),
});

/**
 * Every public path of reference 000 (plus our additive ones) and the service that owns it.
 * Adding an endpoint to a service means adding its line here.
 */
export const ROUTES: readonly RouteDef[] = [
  // contractors
  r('POST', '/v2/docs/findOrg', 'contractors'),
  r('GET', '/v2/docs/findBank', 'contractors'),
  r('GET', '/v2/contractors', 'contractors'),
  r('POST', '/v2/docs/contractors', 'contractors'),
  r('GET', '/v2/docs/contractors/:id', 'contractors'),
  r('DELETE', '/v2/docs/contractors/:id', 'contractors'),
  r('POST', '/v2/docs/contractors/:id/bank', 'contractors'),
  r('DELETE', '/v2/docs/contractors/:id/bank', 'contractors'),
  r('POST', '/v2/docs/contractors/:id/contact', 'contractors'),
  r('DELETE', '/v2/docs/contractors/:id/contact', 'contractors'),
  r('GET', '/v2/docs/organization', 'contractors'), // additive: seller requisites
  r('PUT', '/v2/docs/organization', 'contractors'),

  // documents
  r('POST', '/v2/docs/upload', 'documents', 'upload'),
  r('GET', '/v2/docs/ready', 'documents'),
  r('GET', '/v2/docs/ready/:id/download', 'documents'),
  r('POST', '/v2/docs/constructor', 'documents'),
  r('GET', '/v2/docs/templates', 'documents'),
  r('POST', '/v2/docs/templates', 'documents'),
  r('DELETE', '/v2/docs/templates/:id', 'documents'),
  r('GET', '/v2/docs/documents', 'documents'),
  r('POST', '/v2/docs/documents/:id', 'documents'),
  r('DELETE', '/v2/docs/documents/:id', 'documents'),
  r('DELETE', '/v2/docs/document/:id', 'documents'),
  r('POST', '/v2/docs/documents/:id/render', 'documents'),
  r('GET', '/v2/docs/documents/:id/download', 'documents'),
  r('GET', '/v2/docs/contractors/:id/documents', 'documents'),

  // interactions
  r('GET', '/v2/docs/interactions', 'interactions'),
  r('POST', '/v2/docs/interactions', 'interactions'),
  r('DELETE', '/v2/docs/interactions/:id', 'interactions'),
  r('POST', '/v2/docs/interactions/:id/desc', 'interactions'),
  r('POST', '/v2/docs/interactions/:id/status', 'interactions'),
  r('POST', '/v2/docs/interactions/:id/payments', 'interactions'),
  r('POST', '/v2/docs/interactions/:id/documents', 'interactions'),
  r('POST', '/v2/docs/interactions/:id/files', 'interactions'),
  r('POST', '/v2/docs/interactions/:id/download', 'interactions'),
  r('GET', '/v2/docs/interactions/:id', 'interactions'), // additive: one interaction
  r('PATCH', '/v2/docs/interactions/:id', 'interactions'), // additive: rename, change the sum
  r('GET', '/v2/docs/interactions/:id/bundle', 'interactions'), // additive: ZIP of documents and files
  r('DELETE', '/v2/docs/interactions/:id/payments/:paymentId', 'interactions'), // additive removals
  r('DELETE', '/v2/docs/interactions/:id/documents/:documentId', 'interactions'),
  r('DELETE', '/v2/docs/interactions/:id/files/:fileId', 'interactions'),
  r('GET', '/v2/docs/contractors/:id/interactions', 'interactions'),

  // finance-sync (issue 9)
  r('GET', '/v2/finance/connections', 'finance-sync'),
  r('PUT', '/v2/finance/connections/:target', 'finance-sync'),
  r('DELETE', '/v2/finance/connections/:target', 'finance-sync'),
  r('GET', '/v2/finance/records', 'finance-sync'),
  r('POST', '/v2/finance/records/retry', 'finance-sync'),
  r('GET', '/v2/finance/reconciliation/:target', 'finance-sync'),
  r('POST', '/v2/finance/connections/billing/import', 'finance-sync'), // issue 12: the billing import
  r('GET', '/v2/finance/imports/:id', 'finance-sync'),
  r('GET', '/v2/finance/billing/documents', 'finance-sync'),
  r('GET', '/v2/finance/billing/rejected', 'finance-sync'),
  r('POST', '/v2/finance/webhooks/adesk/:hookToken', 'finance-sync', 'json', { public: true }), // public: Adesk holds no token
];
