import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '@papka/auth';
import { EventBusHealthIndicator } from '@papka/messaging';
import { RendererHealthIndicator } from '../render/render-pool.provider';
import { StorageHealthIndicator } from '@papka/platform';

@ApiExcludeController()
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly bus: EventBusHealthIndicator,
    private readonly storage: StorageHealthIndicator,
    private readonly renderer: RendererHealthIndicator,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** PostgreSQL, object storage and the warm Chromium answer; the event bus is reported. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 2_000 }),
      () => this.storage.check(),
      () => this.renderer.check(),
      () => this.bus.check(),
    ]);
  }
}
