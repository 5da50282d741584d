import path from 'node:path';

/**
 * Bundled Liberation 1.07 fonts (GPL v2 with the font embedding exception, see
 * assets/fonts/LICENSE-Liberation.txt): metric-compatible with Arial and Times
 * New Roman, with Cyrillic, so a document lays out the same on any host and
 * line breaks match what Word users expect. The render pool gives its browser
 * this directory as local fonts (fontconfig, ahead of the host's fonts, whose
 * files of the same names it refuses: see libs/render-pool fonts.ts), so a
 * document only names the family. They used to be inlined into every page as
 * data: URIs, which Chromium decoded and sanitised on every job: ~370 KB of
 * base64 per page, about 60 % of a one-page invoice's render time.
 */
export const FONTS_DIR = path.resolve(__dirname, '../../../assets/fonts');

export type BundledFamily = 'Liberation Sans' | 'Liberation Serif';

const FILES: Record<BundledFamily, { regular: string; bold: string; generic: 'sans-serif' | 'serif' }> = {
  'Liberation Sans': { regular: 'LiberationSans-Regular.ttf', bold: 'LiberationSans-Bold.ttf', generic: 'sans-serif' },
  'Liberation Serif': { regular: 'LiberationSerif-Regular.ttf', bold: 'LiberationSerif-Bold.ttf', generic: 'serif' },
};

const SERIF_NAMES = new Set(['times new roman', 'times', 'serif', 'liberation serif', 'tinos']);

/**
 * Maps a template's `font` to a bundled family: Times-like names to Liberation
 * Serif, anything else (Arial, Helvetica, unknown names) to Liberation Sans,
 * because the renderer may not use host fonts.
 */
export function resolveFontFamily(font: string | undefined): BundledFamily {
  const name = (font ?? '').trim().replace(/^["']|["']$/g, '').trim().toLowerCase();
  return SERIF_NAMES.has(name) ? 'Liberation Serif' : 'Liberation Sans';
}

/** The generic CSS family to fall back to if a glyph is missing from the bundled font. */
export function genericFamily(family: BundledFamily): 'sans-serif' | 'serif' {
  return FILES[family].generic;
}
