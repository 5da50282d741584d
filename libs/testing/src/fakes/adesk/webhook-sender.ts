import { randomUUID } from 'node:crypto';

/** The body Adesk POSTs to a webhook URL (002 L4441-4450). */
export interface AdeskWebhookEnvelope {
  /** ISO with microseconds and `+00:00`, as in 002. */
  eventTimestamp: string;
  eventType: string;
  /** A uuid, the same on every redelivery of the event. */
  eventId: string;
  /** The objects concerned, in the webhook shape (no importedId). A bulk create sends all its objects in one event. */
  data: Record<string, unknown>[];
}

/** One delivery attempt of a webhook event. */
export interface AdeskWebhookDelivery {
  webhookId: number;
  url: string;
  eventId: string;
  eventType: string;
  /** 1 for the first attempt of a chain, then 2, 3, ... on redelivery (at most 9). */
  attempt: number;
  /** `Date.now()` when the attempt was sent. */
  at: number;
  /** The receiver's HTTP status; null when the request failed (refused, reset, timed out). */
  status: number | null;
  /** True only for exactly 200 (002: Adesk expects 200). */
  ok: boolean;
  error?: string;
  body: AdeskWebhookEnvelope;
}

/**
 * Adesk's redelivery schedule after a failed attempt (002 L4362-4369: at once, 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h), in ms before dividing by `webhookClock`. The fake reads "сразу" as an
 * immediate first retry, so an event that is never accepted is tried 9 times in all.
 */
export const ADESK_WEBHOOK_SCHEDULE_MS: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** Where an event goes: one registered webhook. */
export interface WebhookTarget {
  id: number;
  url: string;
}

interface HeldEvent {
  envelope: AdeskWebhookEnvelope;
  targets: WebhookTarget[];
}

/** 002 says nothing about a delivery timeout; a receiver slower than this counts as failed. */
const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;

/** "2022-04-12T10:02:24.703436+00:00": ISO with microseconds and an explicit UTC offset. */
function adeskTimestamp(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, (_, ms: string) => `.${ms}000+00:00`);
}

/**
 * Sends webhook events with Adesk's redelivery on a compressible clock. Each event goes to each
 * target as `copies` independent chains; a chain ends on the first exactly-200 answer or after
 * the last step of the schedule.
 */
export class WebhookSender {
  private readonly log: AdeskWebhookDelivery[] = [];
  private readonly sent = new Map<string, HeldEvent>();
  private held: HeldEvent[] | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private readonly idleWaiters: Array<() => void> = [];
  private active = 0;
  private closed = false;
  copies = 1;

  constructor(
    private readonly clock: number,
    private readonly timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
  ) {}

  /** Builds the envelope of a new event and sends it (or holds it). Resolves when every chain's first attempt is over. */
  emit(eventType: string, data: Record<string, unknown>[], targets: WebhookTarget[]): Promise<void> {
    const envelope: AdeskWebhookEnvelope = { eventTimestamp: adeskTimestamp(), eventType, eventId: randomUUID(), data };
    const event = { envelope, targets };
    this.sent.set(envelope.eventId, event);
    if (this.held) {
      this.held.push(event);
      return Promise.resolve();
    }
    return this.start(event);
  }

  hold(): void {
    this.held ??= [];
  }

  release(order: 'fifo' | 'lifo'): void {
    const held = this.held ?? [];
    this.held = null;
    for (const event of order === 'lifo' ? [...held].reverse() : held) void this.start(event);
  }

  redeliver(eventId: string): void {
    const event = this.sent.get(eventId);
    if (!event) throw new Error(`fake Adesk: no event ${eventId} was sent`);
    void this.start(event);
  }

  deliveries(): AdeskWebhookDelivery[] {
    return this.log.map((d) => ({ ...d }));
  }

  /** Resolves when no chain is running (held events do not count). */
  settled(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const a of this.aborts) a.abort();
    this.active = 0;
    this.wakeIdle();
  }

  private start(event: HeldEvent): Promise<void> {
    const firsts: Promise<void>[] = [];
    for (const target of event.targets) {
      for (let i = 0; i < this.copies; i++) firsts.push(this.chain(target, event.envelope));
    }
    return Promise.all(firsts).then(() => undefined);
  }

  /** Runs the first attempt now; resolves after it, leaving redeliveries scheduled. */
  private async chain(target: WebhookTarget, envelope: AdeskWebhookEnvelope): Promise<void> {
    if (this.closed) return;
    this.active++;
    await this.attempt(target, envelope, 1);
  }

  private async attempt(target: WebhookTarget, envelope: AdeskWebhookEnvelope, attempt: number): Promise<void> {
    if (this.closed) return;
    const ok = await this.post(target, envelope, attempt);
    if (this.closed) return;
    const delay = ADESK_WEBHOOK_SCHEDULE_MS[attempt - 1];
    if (ok || delay === undefined) {
      this.active--;
      this.wakeIdle();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(target, envelope, attempt + 1);
    }, delay / this.clock);
    this.timers.add(timer);
  }

  private async post(target: WebhookTarget, envelope: AdeskWebhookEnvelope, attempt: number): Promise<boolean> {
    const at = Date.now();
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(new Error(`no answer in ${this.timeoutMs} ms`)), this.timeoutMs);
    let status: number | null = null;
    let error: string | undefined;
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(envelope),
        signal: abort.signal,
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      error = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
    const ok = status === 200;
    if (!this.closed) {
      this.log.push({
        webhookId: target.id,
        url: target.url,
        eventId: envelope.eventId,
        eventType: envelope.eventType,
        attempt,
        at,
        status,
        ok,
        ...(error === undefined ? {} : { error }),
        body: envelope,
      });
    }
    return ok;
  }

  private wakeIdle(): void {
    if (this.active > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
