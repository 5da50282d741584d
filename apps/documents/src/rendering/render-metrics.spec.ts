import { Registry } from 'prom-client';
import { RenderQueueFullError, type RenderPool } from '@papka/render-pool';
import { RenderMetrics } from './render-metrics';
import type { RenderPoolHost } from './render-pool.provider';

const fakePool = () => {
  let fail = false;
  const pool = {
    failNext: () => (fail = true),
    stats: () => ({ pages: 2, idle: 1, queued: 3, jobs: 40, browserRestarts: 1, pageRecycles: 5 }),
    render: async (_html: string) => {
      if (fail) {
        fail = false;
        throw new RenderQueueFullError('full');
      }
      return Buffer.from('%PDF');
    },
  };
  return pool;
};

const valueOf = async (registry: Registry, name: string, labels: Record<string, string> = {}) => {
  // A histogram's `_count` is one of its values, named by metricName.
  const values = (await registry.getMetricsAsJSON()).flatMap((m) =>
    m.values.map((v) => ({ ...v, name: (v as { metricName?: string }).metricName ?? m.name })),
  );
  return values.find((v) => v.name === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
};

describe(RenderMetrics.name, () => {
  it('reports the pool: queue, pages, jobs, restarts, recycles', async () => {
    const registry = new Registry();
    new RenderMetrics({ pool: fakePool() as unknown as RenderPool } as RenderPoolHost, registry);
    expect(await valueOf(registry, 'papka_render_enabled')).toBe(1);
    expect(await valueOf(registry, 'papka_render_queue_length')).toBe(3);
    expect(await valueOf(registry, 'papka_render_pages')).toBe(2);
    expect(await valueOf(registry, 'papka_render_pages_idle')).toBe(1);
    expect(await valueOf(registry, 'papka_render_jobs_total')).toBe(40);
    expect(await valueOf(registry, 'papka_render_browser_restarts_total')).toBe(1);
    expect(await valueOf(registry, 'papka_render_page_recycles_total')).toBe(5);
  });

  it('times every render by outcome, returning what the pool returned', async () => {
    const registry = new Registry();
    const pool = fakePool();
    new RenderMetrics({ pool: pool as unknown as RenderPool } as RenderPoolHost, registry);
    expect((await pool.render('<p>1</p>')).toString()).toBe('%PDF');
    pool.failNext();
    await expect(pool.render('<p>2</p>')).rejects.toBeInstanceOf(RenderQueueFullError);
    expect(await valueOf(registry, 'papka_render_duration_seconds_count', { outcome: 'ok' })).toBe(1);
    expect(await valueOf(registry, 'papka_render_duration_seconds_count', { outcome: 'RenderQueueFullError' })).toBe(1);
  });

  it('reports a replica that does not render as disabled, with zeros', async () => {
    const registry = new Registry();
    new RenderMetrics({ pool: null } as RenderPoolHost, registry);
    expect(await valueOf(registry, 'papka_render_enabled')).toBe(0);
    expect(await valueOf(registry, 'papka_render_queue_length')).toBe(0);
  });
});
