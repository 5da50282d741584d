export { BUILTIN_MASKS, BUILTIN_TEMPLATES, builtinTemplate, builtinTemplateByKind, buildTemplateData, TemplateDataError, validateBuiltinMasks } from './builtin';
export type { BuiltinKind, BuiltinTemplate, TemplateDataInput } from './builtin';
export { CONTRACTOR_MISSING, ORGANIZATION_MISSING, type BankBlock, type PartyBlock } from './parties';
// The mask validator is shared with uploaded templates; re-exported for callers that only import built-ins.
export { validateMasks } from '../engine/masks';
