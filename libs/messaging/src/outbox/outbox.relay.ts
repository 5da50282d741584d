import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import type { EventBus } from '../bus/event-bus';
import type { Queryable } from './outbox.writer';

export interface OutboxRelayOptions {
  batchSize?: number;
  /** Payload bytes one pass publishes at most (the bus then cuts requests under the broker's limit). */
  batchBytes?: number;
  /** How often an idle relay looks for rows it was not told about. */
  pollIntervalMs?: number;
  /**
   * A pass woken by a commit starts at least this long after the previous pass began (default
   * 10), so commits close together go out in one pass (one transaction, one produce request)
   * instead of one pass each.
   */
  lingerMs?: number;
  maxBackoffMs?: number;
  /** Published rows older than this are deleted. */
  retentionHours?: number;
  log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra?: Record<string, unknown>) => void;
}

interface Row {
  id: string;
  topic: string;
  key: string;
  payload: string;
  headers: Record<string, string>;
}

export interface OutboxBacklog {
  /** Rows not published yet (rejected ones not counted). */
  pending: number;
  /** Age of the oldest of them, in seconds (0 when none). */
  oldestSeconds: number;
  /** Rows the broker refused for good (too large, invalid): set aside, never blocking the rest. */
  rejected: number;
}

/** The relay publishing each data source's outbox, so a consumer on it can wake that relay. */
const relays = new WeakMap<DataSource, OutboxRelay>();

export const relayOf = (dataSource: DataSource): OutboxRelay | undefined => relays.get(dataSource);

/** What a pass inlines in its SQL: checked, so nothing else can get in. */
const int = (n: number): number => {
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`outbox relay: ${n} is not a positive integer`);
  return n;
};
const uuid = (id: string): string => {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new Error(`outbox relay: ${id} is not a uuid`);
  return id;
};

/** Arbitrary constant: only one relay per database publishes at a time, keeping order. */
const RELAY_LOCK_KEY = 7_245_119;

/**
 * Publishes outbox rows in order and marks them published. A broker outage leaves rows in
 * place and the relay backs off; they go out once the broker is back. Delivery is
 * at-least-once (consumers deduplicate by event id).
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private kicked = false;
  private lastCleanup = 0;
  private consecutiveFailures = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: EventBus,
    private readonly options: OutboxRelayOptions = {},
  ) {
    relays.set(dataSource, this);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Asks the relay to look now (call after committing a transaction that wrote events). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Number of rows not yet published (for health and tests). */
  async pending(): Promise<number> {
    return (await this.backlog()).pending;
  }

  async backlog(): Promise<OutboxBacklog> {
    const [row] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE rejected_at IS NULL)::int AS pending,
              COALESCE(EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE rejected_at IS NULL)), 0)::float AS oldest,
              count(*) FILTER (WHERE rejected_at IS NOT NULL)::int AS rejected
         FROM outbox WHERE published_at IS NULL`,
    );
    return { pending: row.pending as number, oldestSeconds: Math.round(row.oldest as number), rejected: row.rejected as number };
  }

  private async run(): Promise<void> {
    const poll = this.options.pollIntervalMs ?? 500;
    const linger = this.options.lingerMs ?? 10;
    while (this.running) {
      // A kick from here on may be for rows this pass does not see; one before is for rows it does.
      this.kicked = false;
      const started = Date.now();
      let more = false;
      try {
        ({ more } = await this.publishBatch());
        if (this.consecutiveFailures > 0) this.options.log?.('info', 'outbox relay recovered');
        this.consecutiveFailures = 0;
        await this.cleanup();
      } catch (err) {
        this.consecutiveFailures++;
        const backoff = Math.min(this.options.maxBackoffMs ?? 5_000, 100 * 2 ** Math.min(this.consecutiveFailures, 10));
        this.options.log?.(this.consecutiveFailures === 1 ? 'warn' : 'debug', 'outbox relay cannot publish yet', {
          err: (err as Error).message,
          retryInMs: backoff,
        });
        await sleep(backoff);
        continue;
      }
      // A pass that took every row it found waits for a kick (a commit since it began) or the
      // poll, instead of a pass that would find nothing.
      if (more || !this.running) continue;
      if (!this.kicked) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, poll);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
      const wait = linger - (Date.now() - started);
      if (wait > 0 && this.running) await sleep(wait);
    }
  }

  /**
   * One pass: the oldest unpublished rows, within batchSize and batchBytes, published with an
   * outcome per row. Published rows are marked at once (never sent again), rows the broker can
   * never take are set aside as rejected (visible in health, never blocking the rows behind
   * them), and the rest stay for the next pass after a back-off.
   *
   * A pass is one transaction in two round trips: BEGIN with the batch's read, then the marking
   * of what went out with the COMMIT, each sent as one simple-protocol query (several statements,
   * no parameters: what they inline is integers of the options and uuids the read returned).
   */
  private async publishBatch(): Promise<{ published: number; more: boolean }> {
    const batchSize = int(this.options.batchSize ?? 200);
    const batchBytes = int(this.options.batchBytes ?? 4 * 1024 * 1024);
    const runner = this.dataSource.createQueryRunner();
    // The pg client under the runner: a query without parameters goes as one simple-protocol message.
    const client = (await runner.connect()) as Queryable;
    let open = true;
    try {
      // The read takes the relay's lock: only the relay holding the (transaction-scoped) advisory
      // lock gets rows. The lock is tried once, before the scan (a sub-select: PostgreSQL's
      // one-time filter). Tried per row, it could come free half way through a scan, which would
      // then skip the rows before that point and take those after it: a later event of an
      // aggregate published before an earlier one. The statement's snapshot predates the lock,
      // so it could still show rows that the previous holder published and committed just
      // before: FOR UPDATE re-reads each row's latest version and drops those (published_at is
      // set), so no row goes out twice. Cut by bytes in SQL, so a run of large rows is never read
      // (or sent) all at once; `taken` counts the rows of the batch before the cut, so the relay
      // knows whether more are waiting.
      const [, read] = (await client.query(
        `BEGIN;
         SELECT id, topic, key, payload, headers, taken FROM (
           SELECT id, topic, key, payload::text AS payload, headers, seq,
                  sum(octet_length(payload::text)) OVER (ORDER BY seq) AS running,
                  count(*) OVER ()::int AS taken
             FROM (SELECT * FROM outbox
                    WHERE published_at IS NULL AND rejected_at IS NULL AND (SELECT pg_try_advisory_xact_lock(${RELAY_LOCK_KEY}))
                    ORDER BY seq LIMIT ${batchSize} FOR UPDATE) o
         ) w WHERE running - octet_length(payload) < ${batchBytes} ORDER BY seq`,
      )) as [unknown, { rows: (Row & { taken: number })[] }];
      const rows = read.rows;
      if (rows.length === 0) {
        await client.query('COMMIT');
        open = false;
        return { published: 0, more: false };
      }
      // Rows left behind the cut by bytes, or a full batch: look again at once.
      const more = rows.length < rows[0]!.taken || rows.length >= batchSize;
      const outcomes = await this.bus.publishEach(rows.map((r) => ({ topic: r.topic, key: r.key, value: r.payload, headers: r.headers })));
      const ok: string[] = [];
      const rejected: { id: string; error: string }[] = [];
      const failed: { id: string; error: string }[] = [];
      outcomes.forEach((o, i) => {
        const id = rows[i]!.id;
        if (o.ok) ok.push(id);
        else (o.permanent ? rejected : failed).push({ id, error: String(o.error.message).slice(0, 1000) });
      });
      for (const r of rejected) {
        await client.query('UPDATE outbox SET rejected_at = now(), attempts = attempts + 1, last_error = $2 WHERE id = $1', [r.id, r.error]);
        this.options.log?.('error', 'outbox row rejected by the broker for good; set aside', { id: r.id, err: r.error });
      }
      // Recorded (and committed) so operators can see why rows are stuck.
      if (failed.length > 0) {
        await client.query('UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1)', [failed.map((f) => f.id), failed[0]!.error]);
      }
      const mark = ok.length > 0 ? `UPDATE outbox SET published_at = now(), last_error = NULL WHERE id = ANY('{${ok.map(uuid).join(',')}}'::uuid[]); ` : '';
      await client.query(`${mark}COMMIT`);
      open = false;
      if (failed.length > 0) throw new Error(failed[0]!.error);
      return { published: ok.length + rejected.length, more };
    } finally {
      // A pass that failed half way (the database, the bus) must not hand back a connection inside its transaction.
      if (open) await client.query('ROLLBACK').catch(() => undefined);
      await runner.release();
    }
  }

  private async cleanup(): Promise<void> {
    const now = Date.now();
    if (now - this.lastCleanup < 3_600_000) return;
    this.lastCleanup = now;
    const hours = this.options.retentionHours ?? 72;
    await this.dataSource.query(
      `DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < now() - make_interval(hours => $1)`,
      [hours],
    );
  }
}
