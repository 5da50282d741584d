export { CHROMIUM_ARGS, isAllowedRequestUrl, launchChromium } from './chromium';
export { chromiumLaunchEnv, fontconfigXml } from './fonts';
export { RenderBrowserUnavailableError, RenderCrashedError, RenderPoolClosedError, RenderQueueFullError, RenderTimeoutError } from './errors';
export type { LaunchRenderBrowser, RenderBrowser, RenderPage } from './render-browser';
export { RenderPool, type RenderLogLevel, type RenderOptions, type RenderPoolOptions, type RenderPoolStats } from './render-pool';
export { BUNDLED_BROWSER_PACKAGE, BrowserUnavailableError, bundledBrowser, bundledBrowserPath, chooseBrowser, probeBrowser, resolveBrowserPath, type BrowserChoice, type BrowserProbe, type BrowserSource, type BundledBrowser, type ChosenBrowser } from './browser-path';
