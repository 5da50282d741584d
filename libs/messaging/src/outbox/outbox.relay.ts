import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import type { EventBus } from '../bus/event-bus';

export interface OutboxRelayOptions {
  batchSize?: number;
  /** How often an idle relay looks for rows it was not told about. */
  pollIntervalMs?: number;
  maxBackoffMs?: number;
  /** Published rows older than this are deleted. */
  retentionHours?: number;
  log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra?: Record<string, unknown>) => void;
}

interface Row {
  id: string;
  topic: string;
  key: string;
  payload: unknown;
  headers: Record<string, string>;
}

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
  ) {}

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
    const [row] = await this.dataSource.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
    return row.n as number;
  }

  private async run(): Promise<void> {
    const poll = this.options.pollIntervalMs ?? 500;
    while (this.running) {
      let published = 0;
      try {
        published = await this.publishBatch();
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
      if (published > 0 || !this.running) continue;
      if (this.kicked) {
        this.kicked = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, poll);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private async publishBatch(): Promise<number> {
    const result = await this.dataSource.transaction(async (m) => {
      const [{ locked }] = await m.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [RELAY_LOCK_KEY]);
      if (!locked) return { published: 0 };
      const rows: Row[] = await m.query(
        `SELECT id, topic, key, payload, headers FROM outbox
          WHERE published_at IS NULL ORDER BY seq LIMIT $1`,
        [this.options.batchSize ?? 200],
      );
      if (rows.length === 0) return { published: 0 };
      const ids = rows.map((r) => r.id);
      try {
        await this.bus.publish(
          rows.map((r) => ({ topic: r.topic, key: r.key, value: JSON.stringify(r.payload), headers: r.headers })),
        );
      } catch (err) {
        // Recorded (and committed) so operators can see why rows are stuck.
        await m.query('UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1)', [
          ids,
          String((err as Error).message).slice(0, 1000),
        ]);
        return { published: 0, error: err as Error };
      }
      await m.query('UPDATE outbox SET published_at = now(), last_error = NULL WHERE id = ANY($1)', [ids]);
      return { published: rows.length };
    });
    if (result.error) throw result.error;
    return result.published;
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
