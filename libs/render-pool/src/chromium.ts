import puppeteer, { type Browser, type BrowserEvent, type CDPSession, type HTTPRequest, type Page, type PageEvent } from 'puppeteer-core';
import { RenderCrashedError } from './errors';
import { chromiumLaunchEnv } from './fonts';
import type { RenderBrowser, RenderPage } from './render-browser';

/**
 * Chromium flags for rendering. A document must never reach the network, and neither need the
 * browser, so every background fetch is off and the host resolver maps every name (IP literals
 * included) to NOTFOUND: a backstop should request interception ever miss something. `--no-sandbox`
 * because Chromium's sandbox needs kernel features containers rarely grant (and it refuses to
 * start as root, as on CI); JavaScript off and network blocked are the isolation relied on here.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--host-resolver-rules=MAP * ~NOTFOUND',
  '--font-render-hinting=none',
  // Chromium 156 with site isolation crashes the whole browser (every job in flight fails) on
  // a page that held a data: iframe and later gets a srcdoc iframe; found by fuzzing, see
  // render-pool.int-spec.ts. With scripts off there is no cross-site script to isolate from.
  '--disable-site-isolation-trials',
];

/**
 * Only inlined assets may load. Chromium canonicalises the scheme to lower case, the `i` is
 * there so that a future change of that cannot turn `DATA:` into a silent refusal, while
 * `FILE:`, `http:`, `blob:`, `ws:`, `chrome:` and anything else are refused whatever their case.
 */
export function isAllowedRequestUrl(url: string): boolean {
  return /^data:/i.test(url);
}

export type RequestDecision = 'continue' | 'no-content' | 'abort';

/**
 * Navigations (a `<meta http-equiv=refresh>`, an iframe, `<object>`, `<embed>`) are answered
 * with 204, which Chromium treats as "stay where you are": an aborted main-frame navigation
 * would swap the document for an error page and print a blank PDF. Documents need no frames,
 * so data: navigations get the same answer; only data: subresources (images, fonts, CSS) load.
 */
export function decideRequest(url: string, isNavigation: boolean): RequestDecision {
  if (isNavigation) return 'no-content';
  return isAllowedRequestUrl(url) ? 'continue' : 'abort';
}

export async function launchChromium(o: { executablePath: string; fontDirs?: readonly string[] }): Promise<RenderBrowser> {
  const browser = await puppeteer.launch({
    executablePath: o.executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS],
    // Bundled fonts as local fonts (fontconfig): a page names them, nothing is inlined per page.
    env: { ...process.env, ...chromiumLaunchEnv({ fontDirs: o.fontDirs }) },
    // A pipe instead of a WebSocket: no listening port, and the pipe closes when the process
    // dies, so a crash surfaces as `disconnected` at once.
    pipe: true,
    // The service shuts the pool down itself; puppeteer's own handlers would kill Chromium under it.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  try {
    // The tab Chromium opens at start would hold a renderer process (~25 MB) for nothing;
    // headless Chromium stays up with no tab open.
    await Promise.all((await browser.pages()).map((p) => p.close()));
  } catch (err) {
    browser.process()?.kill('SIGKILL');
    throw err;
  }
  return new ChromiumBrowser(browser);
}

// puppeteer's event names are `const enum`s, which SWC compiles file by file and cannot inline.
const DISCONNECTED = 'disconnected' as BrowserEvent.Disconnected;
const REQUEST = 'request' as PageEvent.Request;
const PAGE_ERROR = 'error' as PageEvent.Error;

class ChromiumBrowser implements RenderBrowser {
  constructor(private readonly browser: Browser) {}

  async newPage(): Promise<RenderPage> {
    const page = await this.browser.newPage();
    try {
      return await securePage(page);
    } catch (err) {
      await page.close().catch(() => undefined);
      throw err;
    }
  }

  version(): Promise<string> {
    return this.browser.version();
  }

  connected(): boolean {
    return this.browser.connected;
  }

  onDisconnected(listener: () => void): void {
    this.browser.once(DISCONNECTED, listener);
  }

  close(): Promise<void> {
    return this.browser.close();
  }

  kill(): void {
    this.browser.process()?.kill('SIGKILL');
  }

  pid(): number | undefined {
    return this.browser.process()?.pid;
  }
}

async function securePage(page: Page): Promise<ChromiumPage> {
  // setContent goes through CDP (document.write from the DevTools side), so it keeps working
  // with the page's own scripts off.
  await page.setJavaScriptEnabled(false);
  // Interception also disables the HTTP cache, so nothing can be served around it from memory.
  await page.setRequestInterception(true);
  page.on(REQUEST, (req: HTTPRequest) => {
    let decided: Promise<void>;
    switch (decideRequest(req.url(), req.isNavigationRequest())) {
      case 'continue':
        decided = req.continue();
        break;
      case 'no-content':
        decided = req.respond({ status: 204, body: '' });
        break;
      case 'abort':
        decided = req.abort('blockedbyclient');
        break;
    }
    // The page may be closing under us; the request then dies with it.
    decided.catch(() => undefined);
  });
  return new ChromiumPage(page, await page.createCDPSession());
}

/** A4 in inches, as puppeteer's `format: 'A4'`. */
const A4 = { width: 8.2677, height: 11.6929 };

class ChromiumPage implements RenderPage {
  private crashed: Error | undefined;
  private onCrash: ((err: Error) => void) | undefined;

  constructor(
    private readonly page: Page,
    private readonly cdp: CDPSession,
  ) {
    // A dead renderer leaves pending CDP calls unanswered until the protocol timeout; failing
    // the job at once frees the caller instead of waiting for the job timeout.
    page.on(PAGE_ERROR, (err: Error) => {
      this.crashed = err;
      this.onCrash?.(err);
    });
  }

  async render(html: string, opts: { landscape: boolean; timeoutMs: number }): Promise<Uint8Array> {
    if (this.crashed) throw new RenderCrashedError('The page crashed', { cause: this.crashed });
    const crash = new Promise<never>((_, reject) => {
      this.onCrash = (err) => reject(new RenderCrashedError('The page crashed', { cause: err }));
    });
    const work = async () => {
      await this.page.setContent(html, { waitUntil: 'load', timeout: opts.timeoutMs });
      // What page.pdf({ format: 'A4', printBackground, preferCSSPageSize, tagged: false }) does,
      // but the PDF comes in the command's answer: one round trip to Chromium instead of a
      // stream's three (IO.read twice, IO.close) for a document's few dozen KB. The pool's job
      // timeout bounds both calls.
      await this.cdp.send('Runtime.evaluate', { expression: 'document.fonts.ready.then(() => true)', awaitPromise: true, returnByValue: true });
      const { data } = await this.cdp.send('Page.printToPDF', {
        transferMode: 'ReturnAsBase64',
        landscape: opts.landscape,
        printBackground: true,
        scale: 1,
        paperWidth: A4.width,
        paperHeight: A4.height,
        marginTop: 0,
        marginBottom: 0,
        marginLeft: 0,
        marginRight: 0,
        preferCSSPageSize: true,
        generateTaggedPDF: false,
        generateDocumentOutline: false,
      });
      return Buffer.from(data, 'base64');
    };
    try {
      return await Promise.race([work(), crash]);
    } finally {
      this.onCrash = undefined;
    }
  }

  close(): Promise<void> {
    return this.page.close();
  }
}
