import { METRICS_PATH } from '@papka/platform';
import { RouteTable } from './route-table';
import { ROUTES } from './routes';

/** The proxy is mounted at /v2 only: a service's /metrics is never reachable through the gateway. */
describe('the route table and /metrics', () => {
  it('proxies nothing outside /v2/, so no /metrics of a service', () => {
    expect(ROUTES.filter((r) => !r.path.startsWith('/v2/'))).toEqual([]);
    const table = new RouteTable(ROUTES);
    expect(table.match('GET', METRICS_PATH).kind).toBe('not-found');
    expect(table.match('GET', `/v2${METRICS_PATH}`).kind).toBe('not-found');
  });
});
