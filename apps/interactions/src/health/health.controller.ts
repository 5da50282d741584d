import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '@papka/auth';
import { EventBusHealthIndicator } from '@papka/messaging';
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
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** PostgreSQL and object storage answer; the event bus is reported. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 2_000 }),
      () => this.storage.check(),
      () => this.bus.check(),
    ]);
  }
}
