import Handlebars from 'handlebars';
import { genericFamily, resolveFontFamily } from './fonts';
import { TEMPLATE_HELPERS } from './helpers';

/**
 * Handlebars for user-supplied HTML templates. A template can read the data it
 * is given and call our helpers (see helpers.ts) and the built-in block
 * helpers `if`, `unless`, `each`, `with`, `lookup`; nothing else:
 *
 * - an isolated environment (`Handlebars.create()`), so nothing registered
 *   elsewhere in the process leaks in, and `log` is removed (a template could
 *   otherwise write to our logs);
 * - `knownHelpersOnly`: calling any other helper is a compile-time error;
 * - partials, inline partials and decorators are rejected: they are the ways
 *   a template could register templates of its own;
 * - `{{{x}}}` and `{{&x}}` are rejected, so every value is HTML-escaped;
 * - prototype properties and methods are never readable
 *   (`{{constructor.constructor}}` renders nothing).
 */

export class TemplateSyntaxError extends Error {
  override readonly name = 'TemplateSyntaxError';
  constructor(
    reason: string,
    /** 1-based line of the offending construct, when Handlebars reports it. */
    readonly line?: number,
    readonly column?: number,
  ) {
    super(line === undefined ? `Template error: ${reason}` : `Template error on line ${line}: ${reason}`);
  }
}

/** A helper rejected its input, or the template failed while rendering. */
export class TemplateRenderError extends Error {
  override readonly name = 'TemplateRenderError';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Template rendering failed: ${reason}`, options);
  }
}

export interface CompiledTemplate {
  readonly source: string;
  /** Renders the template body only; use renderHtml for a printable document. */
  render(data: Record<string, unknown>): string;
}

const env = Handlebars.create();
env.unregisterHelper('log');
for (const [name, fn] of Object.entries(TEMPLATE_HELPERS)) env.registerHelper(name, fn);

/**
 * How long filling one template may take, and how much it may write. Filling runs on the event
 * loop, and loops nested in a template multiply (three `{{#each}}` over 1,000 items are 10⁹
 * iterations, minutes of a blocked process), so `each` checks both at every iteration. An
 * invoice fills in well under a millisecond and writes some kilobytes.
 */
export const FILL_LIMITS = { ms: 2_000, chars: 32 * 1024 * 1024 };

/** The fill in progress (filling is synchronous: one at a time per process). */
let filling: { deadline: number; chars: number } | undefined;

const builtinEach = env.helpers['each'] as Handlebars.HelperDelegate;
env.registerHelper('each', function (this: unknown, context: unknown, options: Handlebars.HelperOptions) {
  const fn = options.fn;
  const counted = ((item: unknown, o?: Handlebars.RuntimeOptions) => {
    const out = fn(item, o);
    if (filling) {
      filling.chars += out.length;
      if (filling.chars > FILL_LIMITS.chars) throw new TemplateRenderError(`the template writes more than ${FILL_LIMITS.chars} characters`);
      if (performance.now() > filling.deadline) throw new TemplateRenderError(`filling the template took longer than ${FILL_LIMITS.ms} ms (loops nested over large lists?)`);
    }
    return out;
  }) as Handlebars.TemplateDelegate;
  return builtinEach.call(this, context, { ...options, fn: counted });
});

const KNOWN_HELPERS: Record<string, boolean> = {
  if: true,
  unless: true,
  each: true,
  with: true,
  lookup: true,
  // Internal fallbacks: direct calls to them must not compile.
  helperMissing: false,
  blockHelperMissing: false,
  log: false,
  ...Object.fromEntries(Object.keys(TEMPLATE_HELPERS).map((name) => [name, true])),
};

const COMPILE_OPTIONS = { knownHelpers: KNOWN_HELPERS, knownHelpersOnly: true, noEscape: false, strict: false } as const;

const RUNTIME_OPTIONS: Handlebars.RuntimeOptions = {
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
  allowCallsToHelperMissing: false,
};

export function compileTemplate(source: string): CompiledTemplate {
  if (typeof source !== 'string') throw new TemplateSyntaxError('template source must be a string');
  let ast: hbs.AST.Program;
  try {
    ast = env.parse(source);
  } catch (error) {
    throw toSyntaxError(error);
  }
  rejectUnsafeConstructs(ast);
  let delegate: Handlebars.TemplateDelegate;
  try {
    // compile() is lazy and would report unknown helpers only on first render;
    // precompile() runs the full compiler now without evaluating any code.
    env.precompile(source, COMPILE_OPTIONS);
    delegate = env.compile(source, COMPILE_OPTIONS);
  } catch (error) {
    throw toSyntaxError(error);
  }
  return {
    source,
    render(data) {
      filling = { deadline: performance.now() + FILL_LIMITS.ms, chars: 0 };
      try {
        return delegate(data, RUNTIME_OPTIONS);
      } catch (error) {
        if (error instanceof TemplateRenderError) throw error;
        throw new TemplateRenderError(error instanceof Error ? error.message : String(error), { cause: error });
      } finally {
        filling = undefined;
      }
    },
  };
}

export interface RenderHtmlOptions {
  /** The template's font: "Arial", "Times New Roman", ... (mapped to a bundled family). */
  font?: string;
}

/**
 * A standalone, printable HTML document: the template's output (wrapped in
 * html/head/body if it is a fragment) plus a leading <style> with the A4 page
 * setup and the body font, a bundled family that the renderer's browser has as
 * a local font (see fonts.ts). Our style comes first in <head>, so a
 * template's own CSS overrides it.
 */
export function renderHtml(compiled: CompiledTemplate, data: Record<string, unknown>, opts: RenderHtmlOptions = {}): string {
  const output = compiled.render(data);
  const style = documentStyle(opts.font);
  if (!openTag(output, 'html')) {
    return `<!doctype html><html lang="ru"><head><meta charset="utf-8">${style}</head><body>${output}</body></html>`;
  }
  // Without a doctype Chromium lays tables out in quirks mode.
  const withDoctype = hasDoctype(output) ? output : `<!doctype html>${output}`;
  const head = openTag(withDoctype, 'head');
  if (head) return `${withDoctype.slice(0, head.end)}${style}${withDoctype.slice(head.end)}`;
  const html = openTag(withDoctype, 'html')!;
  return `${withDoctype.slice(0, html.end)}<head>${style}</head>${withDoctype.slice(html.end)}`;
}

/*
 * Scans, not regular expressions: the template is the user's, and `<!--` repeated or `<html `
 * without its `>` made the expressions used here backtrack for hours (exponential in the
 * comments, the square of the length in unclosed tags), holding the renderer.
 */

/** The first `<name` tag (followed by a space or `>`), up to its `>`; null when there is none, or no `>` after it. */
const TAG_START = { html: /<html(?=[\s>])/i, head: /<head(?=[\s>])/i } as const;

function openTag(text: string, name: keyof typeof TAG_START): { start: number; end: number } | null {
  // A fixed-length pattern with a one-character lookahead: linear.
  const found = TAG_START[name].exec(text);
  if (!found) return null;
  const close = text.indexOf('>', found.index);
  // No `>` after the first one: none after a later one either.
  return close === -1 ? null : { start: found.index, end: close + 1 };
}

/** Whether the text starts, after white space and comments, with `<!doctype` and a space. */
function hasDoctype(text: string): boolean {
  let at = 0;
  for (;;) {
    while (at < text.length && /\s/.test(text.charAt(at))) at++;
    if (!text.startsWith('<!--', at)) break;
    const end = text.indexOf('-->', at + 4);
    if (end === -1) return false;
    at = end + 3;
  }
  return /^<!doctype\s/i.test(text.slice(at, at + 10));
}

function documentStyle(font: string | undefined): string {
  const family = resolveFontFamily(font);
  return (
    `<style>@page { size: A4; margin: 15mm; }\n` +
    `body { font-family: '${family}', ${genericFamily(family)}; }</style>`
  );
}

type Located = { loc?: { start: { line: number; column: number } } | null };

function rejectUnsafeConstructs(ast: hbs.AST.Program): void {
  const fail = (node: Located, reason: string): never => {
    const start = node.loc?.start;
    throw new TemplateSyntaxError(reason, start?.line, start?.column);
  };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object' || !('type' in node)) return;
    const n = node as hbs.AST.Node & Record<string, unknown>;
    switch (n.type) {
      case 'PartialStatement':
      case 'PartialBlockStatement':
        return fail(n, 'partials ({{> name}}) are not supported');
      case 'Decorator':
      case 'DecoratorBlock':
        return fail(n, 'decorators and inline partials ({{* ...}}, {{#* ...}}) are not supported');
      case 'MustacheStatement':
        if ((n as unknown as hbs.AST.MustacheStatement).escaped === false) {
          return fail(n, 'unescaped output ({{{value}}} or {{&value}}) is not allowed; use {{value}}');
        }
        break;
      default:
        break;
    }
    for (const key of ['body', 'program', 'inverse', 'path', 'params', 'hash', 'pairs', 'value']) {
      if (key in n) walk(n[key]);
    }
  };
  walk(ast);
}

function toSyntaxError(error: unknown): TemplateSyntaxError {
  if (error instanceof TemplateSyntaxError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const located = error as { lineNumber?: unknown; column?: unknown };
  if (typeof located.lineNumber === 'number') {
    // Handlebars appends " - line:column" to compiler messages.
    const reason = message.replace(/ - \d+:\d+$/, '');
    return new TemplateSyntaxError(reason, located.lineNumber, typeof located.column === 'number' ? located.column : undefined);
  }
  // Parser errors only carry the line in the text: "Parse error on line 3:\n<excerpt>\n---^\nExpecting ...".
  const parse = /^Parse error on line (\d+):\n([\s\S]*)$/.exec(message);
  if (parse) return new TemplateSyntaxError(`parse error:\n${parse[2]}`, Number(parse[1]));
  return new TemplateSyntaxError(message.split('\n')[0] ?? message);
}
