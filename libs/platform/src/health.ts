import { Controller, Get, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator, type HealthIndicatorResult } from '@nestjs/terminus';
import { Public } from '@papka/auth';
import { EventBusHealthIndicator } from '@papka/messaging';

/** A dependency a service checks before it says it is ready (object storage, the renderer). */
export interface ReadinessIndicator {
  check(): Promise<HealthIndicatorResult>;
}

/**
 * `/health/live` (the process is up; no dependency checks, so an outage does not restart pods)
 * and `/health/ready` (PostgreSQL answers, then each of `extra`, then the event bus is
 * reported) for a service built with dataServiceImports.
 */
export function dataServiceHealthController(...extra: Type<ReadinessIndicator>[]): Type<unknown> {
  @ApiExcludeController()
  @Public()
  @Controller('health')
  class HealthController {
    constructor(
      private readonly health: HealthCheckService,
      private readonly db: TypeOrmHealthIndicator,
      private readonly bus: EventBusHealthIndicator,
      private readonly refs: ModuleRef,
    ) {}

    @Get('live')
    live() {
      return { status: 'ok' };
    }

    @Get('ready')
    @HealthCheck()
    ready() {
      return this.health.check([
        () => this.db.pingCheck('database', { timeout: 2_000 }),
        ...extra.map((indicator) => () => this.refs.get(indicator, { strict: false }).check()),
        () => this.bus.check(),
      ]);
    }
  }
  return HealthController;
}
