import { Injectable, Optional } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RenderPool } from '@papka/render-pool';
import { RenderPoolHost } from './render-pool.provider';

/** The outcome label of a render: `ok`, or the error's class (RenderQueueFullError, RenderTimeoutError, ...): a bounded set. */
export const renderOutcome = (err?: unknown): string =>
  err === undefined ? 'ok' : err instanceof Error ? err.constructor.name || 'Error' : 'Error';

/**
 * Prometheus series of this replica's render pool, on the service's registry (MetricsModule):
 * - `papka_render_enabled` (0 on a replica with RENDER_ENABLED=false; the others are then 0);
 * - `papka_render_queue_length`, `papka_render_pages`, `papka_render_pages_idle` (now);
 * - `papka_render_jobs_total`, `papka_render_browser_restarts_total`, `papka_render_page_recycles_total`;
 * - `papka_render_duration_seconds{outcome}`: each `render()` from the call to its PDF or error,
 *   queueing included (what a caller waits).
 * Read from the pool's public `stats()` at scrape time, and by timing its `render()`.
 */
@Injectable()
export class RenderMetrics {
  readonly duration?: Histogram<'outcome'>;
  /** Where a document's render spends its time, by phase (see {@link RenderPhase}). */
  readonly phases?: Histogram<'phase'>;

  constructor(host: RenderPoolHost, @Optional() registry?: Registry) {
    if (!registry) return;
    const pool = host.pool;
    const stats = () => pool?.stats();
    const gauge = (name: string, help: string, value: () => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(value());
        },
      });
    const counter = (name: string, help: string, value: () => number) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          // The pool keeps the running totals; the counter mirrors them.
          this.reset();
          this.inc(value());
        },
      });
    gauge('papka_render_enabled', '1 when this replica renders (RENDER_ENABLED)', () => (pool ? 1 : 0));
    gauge('papka_render_queue_length', 'Render jobs waiting for a page', () => stats()?.queued ?? 0);
    gauge('papka_render_pages', 'Warm pages of the current browser', () => stats()?.pages ?? 0);
    gauge('papka_render_pages_idle', 'Warm pages waiting for a job', () => stats()?.idle ?? 0);
    counter('papka_render_jobs_total', 'Render jobs settled (PDF or error)', () => stats()?.jobs ?? 0);
    counter('papka_render_browser_restarts_total', 'Chromium restarts (crash or job quota)', () => stats()?.browserRestarts ?? 0);
    counter('papka_render_page_recycles_total', 'Pages replaced (job quota or an error on them)', () => stats()?.pageRecycles ?? 0);
    this.duration = new Histogram({
      name: 'papka_render_duration_seconds',
      help: 'Render calls from the call to the PDF (or error), queueing included, by outcome',
      labelNames: ['outcome'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.phases = new Histogram({
      name: 'papka_render_phase_seconds',
      help: 'Time a document render spends per phase: queue (request written to handled), data, html, pdf, put, db',
      labelNames: ['phase'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    if (pool) timeRenders(pool, this.duration);
  }

  /** Records `seconds` spent in `phase` of one document's render (nothing without a registry). */
  phase(phase: RenderPhase, seconds: number): void {
    this.phases?.observe({ phase }, seconds);
  }
}

/**
 * The phases of a document's render: `queue` from the render request's outbox write to its
 * handling, `data` (the rows and the template's data), `html` (Handlebars), `pdf` (the pool,
 * its queue included), `put` (object storage), `db` (the document's claim and its outcome
 * with the outbox event, commits included).
 */
export type RenderPhase = 'queue' | 'data' | 'html' | 'pdf' | 'put' | 'db';

/** Wraps the pool's `render` so each call is observed (its behaviour and result are unchanged). */
export function timeRenders(pool: Pick<RenderPool, 'render'>, duration: Histogram<'outcome'>): void {
  const render = pool.render.bind(pool);
  pool.render = async (html, opts) => {
    const end = duration.startTimer();
    try {
      const pdf = await render(html, opts);
      end({ outcome: renderOutcome() });
      return pdf;
    } catch (err) {
      end({ outcome: renderOutcome(err) });
      throw err;
    }
  };
}
