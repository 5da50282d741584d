// The HTTP server: auth, body-coded errors, faults, the call log, then the route's handler.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdeskCall, AdeskCallOutcome, AdeskRateLimit, AdeskTransaction, FakeAdesk, FakeAdeskOptions, FakeAdeskSeed } from '../adesk';
import { seededRandom } from './format';
import { matchRoute, routes, webhookTargets, type Ctx } from './routes';
import { webhookTransaction } from './shapes';
import { AccountState, AdeskFailure, Ids, type Json } from './state';
import { WebhookSender } from './webhook-sender';

/** Big enough for the benchmark's bulk batches; 002 documents no limit. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export async function startServer(options: FakeAdeskOptions = {}): Promise<FakeAdesk> {
  const ids = new Ids();
  const sender = new WebhookSender(options.webhookClock ?? 1, options.webhookTimeoutMs);
  const table = routes(ids, options.duplicateImportedId ?? 'accept');
  const codedStatus = options.errorHttpStatus === 'code';
  const random = seededRandom(options.seed ?? 1);
  const accounts: AccountState[] = [];
  const byToken = new Map<string, AccountState>();
  const callLog: AdeskCall[] = [];
  const blocks = new Map<string, number>();
  const stalled = new Set<ServerResponse>();
  let dropRatio = 0;
  let dropMode: 'reset' | 'stall' = 'reset';
  let errorRatio = 0;
  let errorWhen: 'before' | 'after' = 'before';
  let errorBody: 'html' | 'json' = 'html';
  let beatResponse = false;
  let down = false;
  let closed = false;

  const emit = (acct: AccountState, type: string, data: Json[]): Promise<void> => sender.emit(type, data, webhookTargets(acct, type));
  const onAdeskChange = (acct: AccountState, type: string, row: AdeskTransaction): void => {
    void emit(acct, type, [webhookTransaction(acct, row)]);
  };

  const addAccount = (o: { tokens?: string[]; seedData?: FakeAdeskSeed } = {}): AccountState => {
    const tokens = o.tokens && o.tokens.length > 0 ? [...o.tokens] : [`adesk-${randomBytes(12).toString('hex')}`];
    for (const t of tokens) if (byToken.has(t)) throw new Error('fake Adesk: token already in use');
    const acct = new AccountState(tokens, ids, onAdeskChange, o.seedData);
    accounts.push(acct);
    for (const t of tokens) byToken.set(t, acct);
    return acct;
  };
  const main = addAccount({ tokens: options.tokens, seedData: options.seedData });

  let rateLimit: AdeskRateLimit | null = options.rateLimit ?? null;
  const recent = new Map<string, number[]>();
  /** Counts the call against its method's window; over the limit, the method is blocked (002 L35-44). */
  const overLimit = (pattern: string): boolean => {
    const limit = rateLimit;
    if (!limit) return false;
    const now = Date.now();
    const window = (recent.get(pattern) ?? []).filter((t) => t > now - limit.perMs);
    window.push(now);
    recent.set(pattern, window);
    if (window.length <= limit.calls) return false;
    blocks.set(pattern, now + limit.blockMs);
    recent.delete(pattern);
    return true;
  };

  const isBlocked = (method: string, pattern: string): boolean => {
    const now = Date.now();
    for (const key of [pattern, `${method} ${pattern}`]) {
      const until = blocks.get(key);
      if (until === undefined) continue;
      if (until > now) return true;
      blocks.delete(key);
    }
    return false;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake-adesk');
    const method = req.method ?? 'GET';
    const call: AdeskCall = { method, path: url.pathname, route: url.pathname, at: Date.now(), status: 0, outcome: 'ok', committed: false };
    const finish = (status: number, body: Json | string, outcome: AdeskCallOutcome, code?: number | string): void => {
      call.status = status;
      call.outcome = outcome;
      if (code !== undefined) call.code = code;
      callLog.push(call);
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json' });
      res.end(text);
    };

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return finish(413, '<h1>413 Request Entity Too Large</h1>', 'error');
      chunks.push(chunk);
    }
    const raw = Buffer.concat(chunks).toString('utf8');

    const matched = matchRoute(table, method, url.pathname);
    if (!matched) return finish(404, { success: false, message: 'Not found', code: 404 }, 'error', 404);
    if ('wrongMethod' in matched) {
      call.route = matched.pattern;
      return finish(405, { success: false, message: 'Method not allowed', code: 405 }, 'error', 405);
    }
    const { route, id } = matched;
    call.route = route.pattern;

    // v1 takes the token from the query only; v2 also from the header (002 L51).
    const token = url.searchParams.get('api_token') ?? (route.v2 ? req.headers['x-api-token'] : undefined);
    const acct = typeof token === 'string' ? byToken.get(token) : undefined;
    if (!acct) return finish(codedStatus ? 401 : 200, { message: 'Auth required', code: 401, success: false }, 'unauthorized', 401);
    if (acct.paymentRequired) return finish(codedStatus ? 402 : 200, { message: 'Payment required', code: 21, success: false }, 'payment-required', 21);
    if (isBlocked(method, route.pattern) || overLimit(route.pattern)) return finish(codedStatus ? 429 : 200, { message: 'Too many requests', code: 429, success: false }, 'rate-limited', 429);

    const serverError = errorRatio > 0 && random() < errorRatio;
    // An HTML page (a proxy's, a crash), or Adesk's own body-coded shape under the 500.
    const serverErrorBody = () => (errorBody === 'json' ? { success: false, message: 'Internal server error', code: 500 } : '<h1>500 Internal Server Error</h1>');
    if (serverError && (errorWhen === 'before' || !route.write)) return finish(500, serverErrorBody(), 'server-error');

    let json: unknown;
    if (route.v2 && method === 'POST') {
      try {
        json = JSON.parse(raw);
      } catch {
        return finish(codedStatus ? 400 : 200, { success: false, message: 'Invalid JSON', errorCode: 'invalid_request' }, 'error', 'invalid_request');
      }
    }
    const events: Array<{ type: string; data: Json[] }> = [];
    const ctx: Ctx = {
      acct,
      query: url.searchParams,
      // v1 bodies are forms whatever the content type says, so JSON sent to v1 reads as missing fields.
      form: new URLSearchParams(route.v2 ? '' : raw),
      json,
      id,
      commit: () => {
        call.committed = true;
        acct.balances = null;
      },
      event: (type, data) => events.push({ type, data }),
    };
    let body: Json;
    try {
      body = route.handle(ctx);
    } catch (err) {
      if (!(err instanceof AdeskFailure)) throw err;
      const status = !codedStatus ? 200 : err.kind === 'not-found' ? 404 : 400;
      return finish(status, err.body, 'error', err.code);
    }

    const firstDeliveries = events.map((e) => emit(acct, e.type, e.data));
    if (beatResponse) await Promise.all(firstDeliveries);

    if (call.committed && route.write) {
      if (serverError) return finish(500, serverErrorBody(), 'server-error');
      if (dropRatio > 0 && random() < dropRatio) {
        call.outcome = dropMode === 'reset' ? 'dropped' : 'stalled';
        callLog.push(call);
        if (dropMode === 'reset') req.socket.resetAndDestroy();
        else stalled.add(res);
        return;
      }
    }
    finish(200, body, 'ok');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the fake must show up in the test, not as a hang.
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake Adesk crashed: ${err instanceof Error ? err.stack : String(err)}`);
      }
    });
  });
  server.keepAliveTimeout = 5_000;

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      for (const res of stalled) res.socket?.destroy();
      stalled.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;

  const fake: FakeAdesk = {
    url: `http://127.0.0.1:${port}`,
    get token() {
      return main.token;
    },
    tokens: main.tokens,
    legalEntities: () => main.legalEntities(),
    bankAccounts: () => main.bankAccounts(),
    categories: () => main.categories(),
    contractors: () => main.contractors(),
    requisites: () => main.requisites(),
    projects: () => main.projects(),
    transactions: () => main.transactions(),
    webhooks: () => main.webhooks(),
    closeBankAccount: (id) => main.closeBankAccount(id),
    openBankAccount: (id) => main.openBankAccount(id),
    addBankAccount: (a) => main.addBankAccount(a),
    createTransactionInAdesk: (t) => main.createTransactionInAdesk(t),
    deleteTransactionInAdesk: (id) => main.deleteTransactionInAdesk(id),
    addAccount,
    account: (token) => byToken.get(token),
    calls: (filter = {}) =>
      callLog
        .filter(
          (c) =>
            (filter.method === undefined || c.method === filter.method) &&
            (filter.outcome === undefined || c.outcome === filter.outcome) &&
            (filter.path === undefined || (typeof filter.path === 'string' ? c.path === filter.path || c.route === filter.path : filter.path.test(c.path))),
        )
        .map((c) => ({ ...c })),
    deliveries: (filter = {}) =>
      sender.deliveries().filter((d) => (filter.eventId === undefined || d.eventId === filter.eventId) && (filter.eventType === undefined || d.eventType === filter.eventType)),
    setCommitThenDrop: (ratio, mode = 'reset') => {
      dropRatio = ratio;
      dropMode = mode;
    },
    setServerErrors: (ratio, when = 'before', body = 'html') => {
      errorRatio = ratio;
      errorWhen = when;
      errorBody = body;
    },
    setRateLimit: (limit) => {
      rateLimit = limit;
      recent.clear();
    },
    blockMethod: (key, ms) => {
      blocks.set(key, ms === Infinity ? Infinity : Date.now() + ms);
    },
    unblockMethod: (key) => {
      blocks.delete(key);
    },
    setPaymentRequired: (a: boolean | string, b?: boolean) => {
      if (typeof a === 'boolean') return main.setPaymentRequired(a);
      const acct = byToken.get(a);
      if (!acct) throw new Error('fake Adesk: unknown token');
      acct.setPaymentRequired(b ?? true);
    },
    setDown: async (on) => {
      if (on === down || closed) return;
      down = on;
      if (on) await stop();
      else await listen(port);
    },
    clearFaults: async () => {
      dropRatio = 0;
      errorRatio = 0;
      blocks.clear();
      rateLimit = null;
      for (const a of accounts) a.paymentRequired = false;
      if (down) await fake.setDown(false);
    },
    setWebhookDuplicates: (copies) => {
      sender.copies = Math.max(1, Math.floor(copies));
    },
    holdWebhooks: () => sender.hold(),
    releaseWebhooks: (order = 'fifo') => sender.release(order),
    setWebhooksBeatResponse: (on) => {
      beatResponse = on;
    },
    redeliver: (eventId) => sender.redeliver(eventId),
    webhooksSettled: () => sender.settled(),
    close: async () => {
      if (closed) return;
      closed = true;
      sender.close();
      if (!down) await stop();
    },
  };
  return fake;
}
