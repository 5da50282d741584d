export { compileTemplate, renderHtml, TemplateRenderError, TemplateSyntaxError } from './handlebars-engine';
export type { CompiledTemplate, RenderHtmlOptions } from './handlebars-engine';
export { TEMPLATE_HELPERS, type TemplateHelperName } from './helpers';
export { resolveFontFamily, type BundledFamily } from './fonts';
export { MAX_LINES, MAX_TEXT_LENGTH, validateMasks, type MaskValidation, type MaskValues } from './masks';
