import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule, DEV_JWT_SECRET } from '@papka/auth';
import { authConfig, loggerModule, MetricsModule } from '@papka/platform';
import { CONFIG, type GatewayConfig } from './config';
import { DocsController } from './docs/docs.controller';
import { OpenApiService } from './docs/openapi.service';
import { HealthController } from './health/health.controller';

@Module({})
export class AppModule {
  static register(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        loggerModule(config.LOG_LEVEL, 'gateway'),
        // /metrics: on the app port unless METRICS_PORT is set (k8s), and never proxied (only /v2/** is).
        MetricsModule.forRoot({ service: 'gateway', port: config.METRICS_PORT }),
        AuthModule.forRootAsync({ useFactory: () => authConfig(config, DEV_JWT_SECRET) }),
        TerminusModule,
      ],
      controllers: [HealthController, DocsController],
      providers: [{ provide: CONFIG, useValue: config }, OpenApiService],
    };
  }
}
