import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Bundled Liberation 1.07 fonts (GPL v2 with the font embedding exception, see
 * assets/fonts/LICENSE-Liberation.txt): metric-compatible with Arial and Times
 * New Roman, with Cyrillic, so a document lays out the same on any host and
 * line breaks match what Word users expect. Liberation 2.x (SIL OFL) files are
 * three times larger, and the renderer parses the inlined font on every job:
 * measured ~45 ms per render for these, ~150+ ms for 2.x.
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

const cssCache = new Map<BundledFamily, string>();

/**
 * `@font-face` rules for one family with the TTFs inlined as data: URIs (the
 * renderer aborts every non-data: request). Only the family in use is
 * embedded: each family is ~370 KB of base64 that Chromium decodes and
 * sanitises on every setContent.
 * Computed once per family and kept for the life of the process.
 */
export function fontFaceCss(family: BundledFamily): string {
  let css = cssCache.get(family);
  if (css === undefined) {
    const files = FILES[family];
    css = [face(family, files.regular, 400), face(family, files.bold, 700)].join('\n');
    cssCache.set(family, css);
  }
  return css;
}

/** The generic CSS family to fall back to if a glyph is missing from the bundled font. */
export function genericFamily(family: BundledFamily): 'sans-serif' | 'serif' {
  return FILES[family].generic;
}

function face(family: BundledFamily, file: string, weight: 400 | 700): string {
  const base64 = readFileSync(path.join(FONTS_DIR, file)).toString('base64');
  return `@font-face { font-family: '${family}'; font-style: normal; font-weight: ${weight}; src: url(data:font/ttf;base64,${base64}) format('truetype'); }`;
}
