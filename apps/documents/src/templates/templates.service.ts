import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { toWindow, type CreateTemplateDto, type MaskDef, type PageQuery, type TemplateView } from '@papka/contracts';
import type { AccountContext } from '@papka/auth';
import { Commands } from '@papka/messaging';
import { BuiltinTemplateError, ConflictError, fieldError, NotFoundError } from '@papka/platform';
import { UploadsService } from '../uploads/uploads.service';
import { BUILTIN_TEMPLATES, builtinTemplate, type BuiltinTemplate } from './builtin/builtin';
import { TemplateFileCheck } from './template-file-check';
import { Template } from './template.entity';
import { TemplatesRepository } from './templates.repository';

/** Built-in epoch: when the shipped templates "were created" in every account's list. */
const BUILTIN_CREATED_AT = '2026-01-01T00:00:00.000Z';

export type ResolvedTemplate =
  | { kind: 'builtin'; builtin: BuiltinTemplate; masks: MaskDef[]; font: string }
  | { kind: 'html' | 'docx'; row: Template; masks: MaskDef[]; font: string };

/** Template `id`: a built-in, or else the account's `row` as read (null: 404). */
export function resolveTemplate(id: string, row: Template | null): ResolvedTemplate {
  const builtin = builtinTemplate(id);
  if (builtin) return { kind: 'builtin', builtin, masks: [...builtin.masks], font: builtin.font };
  if (!row) throw new NotFoundError('template');
  return { kind: row.kind, row, masks: row.masks, font: row.font };
}

/**
 * 409 for a delete of a template that documents still rendering need (their render reads it).
 * TODO(lead): move into the error catalog (libs/platform/src/errors.ts) with the other codes.
 */
export class TemplateInUseError extends ConflictError {
  constructor(readonly pending: number) {
    super(
      'TEMPLATE_IN_USE',
      `${pending} ${pending === 1 ? 'document made from this template is' : 'documents made from this template are'} still rendering; delete it once they are done`,
    );
  }
}

/** Templates: the built-in ones every account sees, and those an account made from uploads. */
@Injectable()
export class TemplatesService {
  constructor(
    private readonly repo: TemplatesRepository,
    private readonly uploads: UploadsService,
    private readonly commands: Commands,
    private readonly fileCheck: TemplateFileCheck,
  ) {}

  /**
   * One page of the list: the built-in templates first (in their fixed order), then the account's
   * own, newest first; `q`'s window runs over both together.
   */
  async list(acc: AccountContext, q: PageQuery = {}): Promise<TemplateView[]> {
    const { take, skip } = toWindow(q);
    const builtins = BUILTIN_TEMPLATES.slice(skip, skip + take).map((b) => ({
      uuid: b.uuid,
      name: b.name,
      filename: b.filename,
      masks: b.masks,
      font: b.font,
      builtin: true,
      createdAt: BUILTIN_CREATED_AT,
    }));
    const rows = await this.repo.list(acc.accountId, { take: take - builtins.length, skip: Math.max(0, skip - BUILTIN_TEMPLATES.length) });
    return [
      ...builtins,
      ...rows.map((t) => ({
        uuid: t.id,
        name: t.name,
        filename: t.filename,
        masks: t.masks,
        font: t.font,
        builtin: false,
        createdAt: t.createdAt.toISOString(),
      })),
    ];
  }

  async create(acc: AccountContext, dto: CreateTemplateDto): Promise<string> {
    const ids = dto.masks.map((m) => m.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) throw fieldError('masks', `mask id "${dup}" is declared twice`);
    const upload = await this.uploads.find(acc, dto.filename);
    if (upload.kind !== 'html' && upload.kind !== 'docx') {
      throw fieldError('filename', 'a template must be an uploaded HTML or DOCX file');
    }
    // Refuse a template that would only fail later, at render time (too large to render, a tag
    // that does not parse): HTML compiled, DOCX parsed with its tags, as the render does.
    await this.fileCheck.assertUsable(upload);
    const id = randomUUID();
    const row = {
      id,
      name: dto.name,
      filename: dto.filename,
      kind: upload.kind,
      masks: dto.masks.map((m) => ({ id: m.id, name: m.name, type: m.type, required: Boolean(m.required) })),
      font: dto.font ?? 'Arial',
    };
    await this.commands.run(acc.accountId, (t) => this.repo.insert(t.manager, acc.accountId, row));
    return id;
  }

  /**
   * Deletes the account's template, refused (409 TEMPLATE_IN_USE) while documents made from it
   * are still pending: their render reads it, and would fail. The template is locked first, so a
   * constructor call or a render asked again that is making a document pending on it meanwhile
   * is either counted here or, once the delete has committed, finds the template gone.
   */
  async remove(acc: AccountContext, id: string): Promise<void> {
    if (builtinTemplate(id)) throw new BuiltinTemplateError();
    await this.commands.run(acc.accountId, async (t) => {
      if (!(await this.repo.lock(t.manager, acc.accountId, id))) throw new NotFoundError('template');
      const pending = await this.repo.pendingDocuments(t.manager, acc.accountId, id);
      if (pending > 0) throw new TemplateInUseError(pending);
      if (!(await this.repo.delete(t.manager, acc.accountId, id))) throw new NotFoundError('template');
    });
  }

  /** A built-in template, or one of this account's. */
}
