import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Public } from '@papka/auth';
import { CONFIG, type GatewayConfig } from '../config';
import { upstreamUrls } from '../proxy/proxy.handler';

@ApiExcludeController()
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /**
   * Ready when the gateway itself is; each upstream's readiness is reported alongside, but a
   * single service being down does not take the whole API out of rotation. The route is public
   * (the Ingress sends `/` here), so the upstreams are asked at most once per
   * {@link UPSTREAM_STATES_TTL_MS}, one check shared by every call meanwhile: before, each call
   * fanned out to every service's own readiness check (a database ping, an outbox query, a
   * Kafka ping), so anyone could multiply the load on them.
   */
  @Get('ready')
  @HealthCheck()
  async ready() {
    const states = await this.upstreamStates();
    return this.health.check(Object.entries(states).map(([name, state]) => async () => this.indicator.check(name).up({ state })));
  }

  private cached: { at: number; states: Promise<Record<string, string>> } | null = null;

  private upstreamStates(): Promise<Record<string, string>> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < UPSTREAM_STATES_TTL_MS) return this.cached.states;
    const states = (async () => {
      const entries = await Promise.all(
        Object.entries(upstreamUrls(this.config)).map(async ([name, base]): Promise<[string, string]> => {
          if (!base) return [name, 'not deployed'];
          try {
            const res = await fetch(`${base.replace(/(?<!\/)\/+$/, '')}/health/ready`, { signal: AbortSignal.timeout(2_000) });
            await res.body?.cancel();
            return [name, res.ok ? 'up' : `not ready (HTTP ${res.status})`];
          } catch (err) {
            return [name, `unreachable: ${(err as Error).message}`];
          }
        }),
      );
      return Object.fromEntries(entries);
    })();
    this.cached = { at: now, states };
    return states;
  }
}

/** How long the upstreams' readiness, once asked, answers every /health/ready. */
export const UPSTREAM_STATES_TTL_MS = 2_000;
