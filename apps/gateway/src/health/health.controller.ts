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
   * single service being down does not take the whole API out of rotation.
   */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(
      Object.entries(upstreamUrls(this.config)).map(([name, base]) => async () => {
        const i = this.indicator.check(name);
        if (!base) return i.up({ state: 'not deployed' });
        try {
          const res = await fetch(`${base.replace(/(?<!\/)\/+$/, '')}/health/ready`, { signal: AbortSignal.timeout(2_000) });
          return i.up({ state: res.ok ? 'up' : `not ready (HTTP ${res.status})` });
        } catch (err) {
          return i.up({ state: `unreachable: ${(err as Error).message}` });
        }
      }),
    );
  }
}
