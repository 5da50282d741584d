import type { Method, RouteDef } from './routes';

interface Compiled {
  def: RouteDef;
  regex: RegExp;
}

export type Match =
  | { kind: 'found'; route: RouteDef }
  | { kind: 'method-not-allowed'; allow: Method[] }
  | { kind: 'not-found' };

const compile = (path: string): RegExp =>
  new RegExp(
    `^${path
      .split('/')
      .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')}/?$`,
  );

/** Matches a request path against the declarative route table. */
export class RouteTable {
  private readonly compiled: Compiled[];

  constructor(routes: readonly RouteDef[]) {
    this.compiled = routes.map((def) => ({ def, regex: compile(def.path) }));
  }

  match(method: string, path: string): Match {
    const byPath = this.compiled.filter((c) => c.regex.test(path));
    if (byPath.length === 0) return { kind: 'not-found' };
    const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
    const hit = byPath.find((c) => c.def.method === m);
    return hit ? { kind: 'found', route: hit.def } : { kind: 'method-not-allowed', allow: byPath.map((c) => c.def.method) };
  }
}
