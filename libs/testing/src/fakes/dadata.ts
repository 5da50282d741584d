import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import bankSberFixture from './fixtures/bank-044525225.json';
import bankTochkaFixture from './fixtures/bank-044525104.json';
import partyIpFixture from './fixtures/party-501817999160.json';
import partySberFixture from './fixtures/party-7707083893.json';

/** Path prefix of DaData's suggestions API; the fake mounts its methods under it. */
export const DADATA_SUGGESTIONS_PATH = '/suggestions/api/4_1/rs';
export const FAKE_DADATA_API_KEY = 'fake-dadata-api-key';
/** How long 'slow' mode holds a request: longer than any sane client timeout. */
export const FAKE_DADATA_SLOW_MS = 10_000;

const MAX_BODY_BYTES = 1024 * 1024;

export interface DadataSuggestion {
  value: string;
  unrestricted_value: string;
  data: Record<string, unknown>;
}

/** Copies of the stock fixtures, for assertions against what the fake returns. */
export const dadataFixtures = {
  /** ИП Артиков Тимур Дилшодович, INN 501817999160 (recorded DaData answer). */
  partyIndividual: (): DadataSuggestion => structuredClone(partyIpFixture),
  /** ПАО СБЕРБАНК, INN 7707083893 (constructed by analogy, not a recorded answer). */
  partyLegal: (): DadataSuggestion => structuredClone(partySberFixture),
  /** ООО «Банк Точка», BIK 044525104 (recorded DaData answer). */
  bankTochka: (): DadataSuggestion => structuredClone(bankTochkaFixture),
  /** ПАО Сбербанк, BIK 044525225 (constructed by analogy). */
  bankSber: (): DadataSuggestion => structuredClone(bankSberFixture),
};

// Requisites the stock fixtures answer for, each valid by its checksum: what specs create
// contractors and bank accounts with, so the fake's answer is known.

/** ИП Артиков Тимур Дилшодович: `dadataFixtures.partyIndividual()`. */
export const FIXTURE_INN = '501817999160';
/** ООО «Банк Точка»: `dadataFixtures.bankTochka()`. */
export const FIXTURE_BIK = '044525104';
/** A settlement account at {@link FIXTURE_BIK} that passes the BIK control key. */
export const FIXTURE_ACCOUNT_NUMBER = '40802810220000499329';

/**
 * - ok: answer normally
 * - down: reset the connection without a response
 * - slow: wait {@link FAKE_DADATA_SLOW_MS} before answering normally
 * - rate-limited: 429, as DaData does when over the per-second limit
 * - error500: 500
 */
export type FakeDadataMode = 'ok' | 'down' | 'slow' | 'rate-limited' | 'error500';

export interface RecordedDadataRequest {
  method: string;
  /** Full request path without the query string, e.g. `/suggestions/api/4_1/rs/findById/party`. */
  path: string;
  /** Parsed JSON body, or the raw text when it is not valid JSON. */
  body: unknown;
  headers: IncomingHttpHeaders;
}

export interface FakeDadataOptions {
  apiKey?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Override the 'slow' delay, e.g. to test a request that eventually succeeds. */
  slowMs?: number;
}

export interface FakeDadata {
  /** Base URL, e.g. `http://127.0.0.1:PORT/suggestions/api/4_1/rs`; append `/findById/party`. */
  readonly url: string;
  readonly apiKey: string;
  readonly requests: RecordedDadataRequest[];
  setMode(mode: FakeDadataMode): void;
  addParty(suggestion: DadataSuggestion): void;
  addBank(suggestion: DadataSuggestion): void;
  /**
   * Holds every request `match` accepts (already in {@link requests}) unanswered until the
   * returned function is called, then answers it as the mode says: a test can keep a client in
   * the middle of a look-up for as long as it needs, with no timer. `reset` and `close` let go too.
   */
  hold(match: (request: RecordedDadataRequest) => boolean): () => void;
  /** Back to 'ok' with an empty request log and nothing held; registered fixtures are kept. */
  reset(): void;
  /** Stops listening and drops open connections, including ones held by 'slow'. */
  close(): Promise<void>;
}

type Lookup = (suggestions: readonly DadataSuggestion[], body: Record<string, unknown>) => DadataSuggestion[];

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

class BodyTooLargeError extends Error {}

function field(suggestion: DadataSuggestion, name: string): unknown {
  return suggestion.data[name];
}

function queryOf(body: Record<string, unknown>): string {
  return String(body.query).trim();
}

// findById/party looks up by ИНН or ОГРН; an optional КПП narrows to a branch
// and `type` to LEGAL/INDIVIDUAL, mirroring the real request options.
const findParty: Lookup = (parties, body) => {
  const query = queryOf(body);
  return parties.filter(
    (p) =>
      (field(p, 'inn') === query || field(p, 'ogrn') === query) &&
      (body.kpp === undefined || field(p, 'kpp') === body.kpp) &&
      (body.type === undefined || field(p, 'type') === body.type),
  );
};

// findById/bank accepts БИК, SWIFT, ИНН or registration number.
const findBank: Lookup = (banks, body) => {
  const query = queryOf(body);
  return banks.filter((b) => ['bic', 'swift', 'inn', 'registration_number'].some((key) => field(b, key) === query));
};

function error(status: number, reason: string, message: string): Reply {
  return { status, body: { family: status >= 500 ? 'SERVER_ERROR' : 'CLIENT_ERROR', reason, message } };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new BodyTooLargeError());
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  res.writeHead(reply.status, { 'Content-Type': 'application/json;charset=UTF-8', ...reply.headers });
  res.end(JSON.stringify(reply.body));
}

/**
 * A local stand-in for DaData's suggestions API (`findById/party`,
 * `findById/bank`) over real HTTP, so clients are tested with their actual
 * transport, timeouts and error handling.
 */
export async function startFakeDadata(opts: FakeDadataOptions = {}): Promise<FakeDadata> {
  const apiKey = opts.apiKey ?? FAKE_DADATA_API_KEY;
  const slowMs = opts.slowMs ?? FAKE_DADATA_SLOW_MS;
  const requests: RecordedDadataRequest[] = [];
  const parties: DadataSuggestion[] = [dadataFixtures.partyIndividual(), dadataFixtures.partyLegal()];
  const banks: DadataSuggestion[] = [dadataFixtures.bankTochka(), dadataFixtures.bankSber()];
  const routes: Record<string, { lookup: Lookup; data: DadataSuggestion[] }> = {
    [`${DADATA_SUGGESTIONS_PATH}/findById/party`]: { lookup: findParty, data: parties },
    [`${DADATA_SUGGESTIONS_PATH}/findById/bank`]: { lookup: findBank, data: banks },
  };
  const pendingTimers = new Set<NodeJS.Timeout>();
  let mode: FakeDadataMode = 'ok';
  const holds = new Set<{ match: (request: RecordedDadataRequest) => boolean; released: Promise<void>; release: () => void }>();
  const releaseAll = () => {
    for (const h of holds) h.release();
  };

  function delay(res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        resolve(!res.destroyed);
      }, slowMs);
      pendingTimers.add(timer);
      // A client that gave up (timeout/abort) should not keep a timer alive.
      res.on('close', () => {
        clearTimeout(timer);
        pendingTimers.delete(timer);
        resolve(false);
      });
    });
  }

  function answer(req: IncomingMessage, path: string, rawBody: string): Reply {
    if (mode === 'rate-limited') return error(429, 'Too Many Requests', 'Too many requests per second');
    if (mode === 'error500') return error(500, 'Internal Server Error', 'Simulated DaData failure');

    const route = routes[path];
    if (!route) return error(404, 'Not Found', `Unknown method ${path}`);
    if (req.method !== 'POST') {
      return { ...error(405, 'Method Not Allowed', 'Only POST is supported'), headers: { Allow: 'POST' } };
    }
    if (req.headers.authorization?.trim() !== `Token ${apiKey}`) {
      return error(401, 'Unauthorized', 'Missing or invalid API key (Authorization: Token <key>)');
    }
    const parsed = parseJson(rawBody);
    if (!parsed.ok || !isObject(parsed.value)) return error(400, 'Bad Request', 'Request body must be a JSON object');
    const body = parsed.value;
    if (typeof body.query !== 'string' || !body.query.trim()) return error(400, 'Bad Request', 'query is required');

    const count = typeof body.count === 'number' && body.count > 0 ? body.count : 10;
    const found = route.lookup(route.data, body).slice(0, count);
    return { status: 200, body: { suggestions: found.map((s) => structuredClone(s)) } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        const tooLarge = error(413, 'Payload Too Large', 'Request body is too large');
        send(res, { ...tooLarge, headers: { Connection: 'close' } });
      } else {
        res.destroy();
      }
      return;
    }
    const parsed = parseJson(rawBody);
    const recorded: RecordedDadataRequest = {
      method: req.method ?? '',
      path,
      body: parsed.ok ? parsed.value : rawBody,
      headers: { ...req.headers },
    };
    requests.push(recorded);
    for (const h of holds) if (h.match(recorded)) await h.released;
    if (res.destroyed) return;

    if (mode === 'down') {
      req.socket.destroy();
      return;
    }
    if (mode === 'slow' && !(await delay(res))) return;
    send(res, answer(req, path, rawBody));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | null = null;

  return {
    url: `http://127.0.0.1:${port}${DADATA_SUGGESTIONS_PATH}`,
    apiKey,
    requests,
    setMode(next) {
      mode = next;
    },
    addParty(suggestion) {
      parties.push(structuredClone(suggestion));
    },
    addBank(suggestion) {
      banks.push(structuredClone(suggestion));
    },
    hold(match) {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const h = { match, released, release: () => (holds.delete(h), release()) };
      holds.add(h);
      return h.release;
    },
    reset() {
      mode = 'ok';
      requests.length = 0;
      releaseAll();
    },
    close() {
      releaseAll();
      closing ??= new Promise<void>((resolve, reject) => {
        for (const timer of pendingTimers) clearTimeout(timer);
        pendingTimers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        // server.close() alone waits for keep-alive and held 'slow' sockets.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
