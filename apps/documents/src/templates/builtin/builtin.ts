import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MaskDef } from '@papka/contracts';
import { BUILTIN_MASKS, type BuiltinKind } from './builtin-masks';

export { BUILTIN_MASKS, type BuiltinKind } from './builtin-masks';
export { buildTemplateData, TemplateDataError, validateBuiltinMasks, type TemplateDataInput } from './template-data';

/** A template that ships with the service; its data comes from buildTemplateData(kind, ...). */
export interface BuiltinTemplate {
  /** Fixed forever: documents store it to say which template they were made from. */
  uuid: string;
  kind: BuiltinKind;
  name: string;
  /** Download name of the source, so a user can start a custom template from it. */
  filename: string;
  masks: MaskDef[];
  font: string;
  /** Handlebars HTML, subject to the same rules as an uploaded template. */
  source: string;
}

// Read once at start-up: the sources are part of the service, like code.
function source(file: string): string {
  return readFileSync(path.join(__dirname, file), 'utf8');
}

export const BUILTIN_TEMPLATES: readonly BuiltinTemplate[] = Object.freeze(
  [
    {
      uuid: '61d0fed1-e842-42ba-b2cc-b9423a2a02fa',
      kind: 'invoice' as const,
      name: 'Счёт на оплату',
      filename: 'schet-na-oplatu.html',
      masks: BUILTIN_MASKS.invoice,
      font: 'Arial',
      source: source('invoice.hbs'),
    },
    {
      uuid: 'f631a57a-f0f5-49aa-833c-b904f4ca5dbe',
      kind: 'act' as const,
      name: 'Акт выполненных работ',
      filename: 'akt-vypolnennyh-rabot.html',
      masks: BUILTIN_MASKS.act,
      font: 'Arial',
      source: source('act.hbs'),
    },
    {
      uuid: 'a103cc3d-43c3-46c1-804c-72bd5a5e68c5',
      kind: 'contract' as const,
      name: 'Договор оказания услуг',
      filename: 'dogovor-okazaniya-uslug.html',
      masks: BUILTIN_MASKS.contract,
      font: 'Times New Roman',
      source: source('contract.hbs'),
    },
    {
      uuid: '69039aeb-83c7-43b9-9f3b-b02cc2bfdd2f',
      kind: 'letter' as const,
      name: 'Письмо',
      filename: 'pismo.html',
      masks: BUILTIN_MASKS.letter,
      font: 'Times New Roman',
      source: source('letter.hbs'),
    },
  ].map((t) => Object.freeze(t)),
);

export function builtinTemplate(uuid: string): BuiltinTemplate | undefined {
  const id = uuid.toLowerCase();
  return BUILTIN_TEMPLATES.find((t) => t.uuid === id);
}

export function builtinTemplateByKind(kind: BuiltinKind): BuiltinTemplate {
  const found = BUILTIN_TEMPLATES.find((t) => t.kind === kind);
  if (!found) throw new Error(`No built-in template of kind ${kind}`);
  return found;
}
