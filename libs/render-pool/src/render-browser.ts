/**
 * The narrow view of a browser that the pool needs. Production uses Chromium through
 * puppeteer-core (chromium.ts); unit tests inject a fake so queue, timeout, crash and
 * recycling logic run without a browser.
 */
export interface RenderPage {
  /** Lays out `html` and prints it to an A4 PDF. Must reject (not hang) once the page is closed. */
  render(html: string, opts: { landscape: boolean; timeoutMs: number }): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface RenderBrowser {
  newPage(): Promise<RenderPage>;
  version(): Promise<string>;
  connected(): boolean;
  /** Called at most once, when the browser goes away for whatever reason (crash, kill, close). */
  onDisconnected(listener: () => void): void;
  close(): Promise<void>;
  /** Last resort when close() hangs. */
  kill(): void;
  pid(): number | undefined;
}

export type LaunchRenderBrowser = (o: {
  executablePath: string;
  /** Directories of fonts the browser gets as local fonts (see chromiumLaunchEnv). */
  fontDirs?: readonly string[];
}) => Promise<RenderBrowser>;
