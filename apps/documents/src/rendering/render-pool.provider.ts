import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { CONFIG, type DocumentsConfig } from '../config';
import { RenderPool, resolveBrowserPath } from '@papka/render-pool';
import { FONTS_DIR } from '../templates/engine/fonts';

/** The warm Chromium of this replica, started with the app and closed with it. */
@Injectable()
export class RenderPoolHost implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RenderPool');
  readonly pool: RenderPool | null;

  constructor(@Inject(CONFIG) config: DocumentsConfig) {
    this.pool =
      config.RENDER_ENABLED
        ? new RenderPool({
            // CHROMIUM_PATH, or the npm chrome-headless-shell unpacked into the temp dir (once, ~2 s).
            executablePath: resolveBrowserPath({ chromiumPath: config.CHROMIUM_PATH }).path,
            pages: config.RENDER_PAGES,
            queueLimit: config.RENDER_QUEUE_LIMIT,
            jobTimeoutMs: config.RENDER_TIMEOUT_MS,
            // The bundled fonts as the browser's local fonts: documents name them (renderHtml).
            fontDirs: [FONTS_DIR],
            log: (level, message, extra) =>
              this.logger[level === 'info' ? 'log' : level](`${message}${extra ? ` ${JSON.stringify(extra)}` : ''}`),
          })
        : null;
  }

  async onModuleInit(): Promise<void> {
    await this.pool?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.close();
  }
}

@Injectable()
export class RendererHealthIndicator {
  constructor(
    private readonly host: RenderPoolHost,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'renderer') {
    const i = this.health.check(key);
    if (!this.host.pool) return i.up({ state: 'disabled on this replica' });
    return (await this.host.pool.ping()) ? i.up({ ...this.host.pool.stats() }) : i.down({ message: 'Chromium is not answering' });
  }
}
