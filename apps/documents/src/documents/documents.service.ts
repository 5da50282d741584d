import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import {
  DocumentCreated,
  DocumentDeleted,
  DocumentStatus,
  DocumentStatusChanged,
  RenderRequested,
  toWindow,
  type ConstructorDto,
  type DocumentView,
  type ListDocumentsQuery,
} from '@papka/contracts';
import type { AccountContext } from '@papka/auth';
import { Commands, waitForReplica } from '@papka/messaging';
import {
  Buckets,
  ConflictError,
  fieldError,
  Idempotency,
  NotFoundError,
  RenderFailedError,
  RenderPendingError,
  ValidationFailedError,
  withStorage,
  type Created,
} from '@papka/platform';
import { invoiceTotals, isVatRate, kopecksToRubles, rublesToKopecks, type VatRate } from '@papka/ru';
import { OBJECT_STORAGE, type ObjectStorage, type StoredObject } from '@papka/storage';
import { CONFIG, type DocumentsConfig } from '../config';
import { ReplicasRepository } from '../replicas/replicas.repository';
import { builtinTotalKopecks, checkNewBuiltinMasks, validateBuiltinMasks, withOrganizationVat } from '../templates/builtin/template-data';
import { validateMasks } from '../templates/engine/masks';
import { builtinTemplate } from '../templates/builtin/builtin';
import { resolveTemplate } from '../templates/templates.service';
import type { DocumentEntity } from './document.entity';
import { ConstructorInputRepository } from './constructor-input.repository';
import { DocumentsRepository, newDocument, snapshotOf } from './documents.repository';
import { TemplateFileCheck } from '../templates/template-file-check';
import { RenderHandoff, type RenderSlot } from './render-handoff';

/**
 * Sum from the lines of an account's template, when the caller did not give one: at the VAT rate
 * its masks name, none otherwise (its own HTML decides what it prints). A built-in's sum is what
 * its render prints (`builtinTotalKopecks`).
 */
function linesTotal(masks: Record<string, unknown>): number | null {
  const lines = masks.lines;
  if (!Array.isArray(lines) || lines.length === 0) return null;
  const rate: VatRate = isVatRate(masks.vatRate) ? masks.vatRate : isVatRate(Number(masks.vatRate)) ? (Number(masks.vatRate) as VatRate) : 'none';
  const mode = masks.vatMode === 'included' ? 'included' : 'on-top';
  try {
    return invoiceTotals(
      lines.map((l: { quantity: number; price: number }) => ({ quantity: Number(l.quantity), priceKopecks: Number(l.price) })),
      rate,
      mode,
    ).totalKopecks;
  } catch {
    return null;
  }
}

/**
 * 409 for a render asked again of a document that has not failed (still rendering, or rendered).
 * TODO(lead): move into the error catalog (libs/platform/src/errors.ts) with the other codes.
 */
export class DocumentNotFailedError extends ConflictError {
  constructor(state: string) {
    super('DOCUMENT_NOT_FAILED', `only a failed document can be rendered again; this one is ${state}`);
  }
}

/**
 * 409 for a render asked again of a document whose account template was deleted since: the
 * render could only fail again ("the template was deleted before the document was rendered").
 */
export class TemplateDeletedError extends ConflictError {
  constructor() {
    super('TEMPLATE_DELETED', 'the template this document was made from has been deleted, so it cannot be rendered again');
  }
}

type RenderSlotJob = Parameters<RenderSlot['fill']>[0];

/** Documents: made by the constructor, rendered asynchronously, listed, downloaded. */
@Injectable()
export class DocumentsService {
  constructor(
    @Inject(CONFIG) private readonly config: DocumentsConfig,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly repo: DocumentsRepository,
    private readonly replicas: ReplicasRepository,
    private readonly inputs: ConstructorInputRepository,
    private readonly commands: Commands,
    private readonly idempotency: Idempotency,
    private readonly fileCheck: TemplateFileCheck,
    private readonly handoff: RenderHandoff = new RenderHandoff(),
  ) {}

  /**
   * Runs `fn` (a command asking for a render), then hands the request `fn` made (if any) to this
   * replica's render queue once the transaction has committed. `fn` is told whether a place is
   * held here (`local`): when not, it emits RenderRequested for the bus instead.
   */
  private async withRender<T>(fn: (local: boolean) => Promise<{ result: T; job: RenderSlotJob | null }>): Promise<T> {
    const slot: RenderSlot | null = this.handoff.reserve();
    let made: { result: T; job: RenderSlotJob | null };
    try {
      made = await fn(slot !== null);
    } catch (err) {
      slot?.cancel();
      throw err;
    }
    if (slot && made.job) slot.fill(made.job);
    else slot?.cancel();
    return made.result;
  }

  list(acc: AccountContext, q: ListDocumentsQuery): Promise<DocumentView[]> {
    return this.repo.list(acc.accountId, { contractorId: q.contractor, status: q.status, type: q.type, from: q.from, to: q.to }, toWindow(q));
  }

  async listForContractor(acc: AccountContext, contractorId: string, q: ListDocumentsQuery): Promise<DocumentView[]> {
    // One created a moment ago reaches the read model a little later (REPLICA_WAIT_MS).
    if (!(await waitForReplica(async () => (await this.replicas.contractor(acc.accountId, contractorId))!== null, this.config.REPLICA_WAIT_MS))) throw new NotFoundError('contractor');
    return this.list(acc, { ...q, contractor: contractorId });
  }

  /** POST /v2/docs/constructor: stores the document and asks for its rendering. */
  async construct(acc: AccountContext, dto: ConstructorDto, key?: string): Promise<Created> {
    // A retry of a call that made its document gets it back, whatever has changed since (the
    // contractor or template deleted): before the checks below, which it passed the first time.
    const replayed = await this.idempotency.replay(acc.accountId, key, dto);
    if (replayed) return replayed;
    if (Boolean(dto.filename) === Boolean(dto.template)) {
      throw new ValidationFailedError(
        { template: ['give either template (a template uuid) or filename (an uploaded HTML/DOCX file)'] },
        'give either template or filename',
      );
    }
    // The contractor's replica and the template or upload asked for, in one read.
    const accountTemplate = dto.template && !builtinTemplate(dto.template) ? dto.template : null;
    const read = () => this.inputs.find(acc.accountId, dto.contractor, accountTemplate, dto.template ? null : dto.filename!);
    let input = await read();
    // A contractor created a moment ago reaches this read model a little later: waited for
    // (REPLICA_WAIT_MS) instead of a 404 for one the contractors API has just answered.
    if (!input.contractor) await waitForReplica(async () => (input = await read()).contractor !== null, this.config.REPLICA_WAIT_MS);
    const contractor = input.contractor;
    if (!contractor || contractor.deleted) throw new NotFoundError('contractor');

    const at = new Date();
    let masks: Record<string, unknown> = dto.masks ?? {};
    let templateId: string | null = null;
    let sourceFilename: string | null = null;
    let builtinKind = false;
    if (dto.template) {
      const t = resolveTemplate(dto.template, input.template);
      // Built-ins also check what MaskDef cannot express (allowed VAT rates and modes).
      const checked = t.kind === 'builtin' ? validateBuiltinMasks(t.builtin.kind, masks) : validateMasks(t.masks, masks);
      if (!checked.ok) throw new ValidationFailedError(checked.errors, `Validation failed: ${Object.values(checked.errors)[0]?.[0]}`);
      if (t.kind === 'builtin') {
        // The organisation's default VAT first: the checks then see the rate the document prints.
        masks = withOrganizationVat(t.builtin.kind, checked.values, input.organizationVatRate, at);
        const refused = checkNewBuiltinMasks(t.builtin.kind, masks, at);
        if (refused) throw new ValidationFailedError(refused, `Validation failed: ${Object.values(refused)[0]?.[0]}`);
      } else {
        masks = checked.values;
      }
      templateId = dto.template;
      builtinKind = t.kind === 'builtin';
    } else {
      const upload = input.upload;
      if (!upload) throw new NotFoundError(`upload ${dto.filename}`);
      if (upload.kind !== 'html' && upload.kind !== 'docx') throw fieldError('filename', 'the constructor needs an uploaded HTML or DOCX template');
      // As a template create refuses it: a file that does not compile would only fail its document.
      await this.fileCheck.assertUsable(upload, 'allow');
      sourceFilename = upload.filename;
    }
    // A built-in prints the total of its lines (a contract its `sum` mask): a `sum` that says
    // otherwise would be stored and listed beside a PDF and a QR that say something else.
    const printed = builtinKind ? builtinTotalKopecks(masks, at) : null;
    if (printed !== null && dto.sum !== undefined && rublesToKopecks(dto.sum) !== printed) {
      throw fieldError('sum', `sum must be what the document prints, ${kopecksToRubles(printed)} (its lines' total, or its sum mask), or be left out`);
    }
    const sum = dto.sum !== undefined ? rublesToKopecks(dto.sum) : ((builtinKind ? printed : linesTotal(masks)) ?? 0);

    return this.withRender(async (local) => {
      const id = randomUUID();
      const row = {
        id,
        name: dto.name,
        type: dto.type,
        status: DocumentStatus.Draft,
        renderState: 'pending' as const,
        renderError: null,
        revision: 1,
        templateId,
        sourceFilename,
        contractorId: contractor.id,
        contractorCopy: { name: contractor.name, inn: contractor.inn, address: contractor.address },
        masks,
        sum,
      };
      // Written only while the account's template still exists (a delete may have taken it since the read above).
      const insert = this.repo.insert(acc.accountId, row, at, accountTemplate);
      // The contractor as read above: one statement fewer than asking its replica again.
      const created = snapshotOf(newDocument(acc.accountId, row, at), contractor);
      const job: RenderSlotJob = { accountId: acc.accountId, documentId: id, revision: 1, requestedAt: at.getTime() };
      if (local && key === undefined) {
        // The usual call: the row and its event in one statement, no transaction round trips.
        const written = await this.commands.runOne(acc.accountId, insert, DocumentCreated, id, created);
        if (written.rows.length === 0) throw new NotFoundError('template');
        return { result: { uuid: id, replayed: false }, job };
      }
      const result = await this.commands.run(acc.accountId, (t) =>
        this.idempotency.run(t.manager, acc.accountId, key, dto, async () => {
          if ((await t.write(insert, DocumentCreated, id, created)).rows.length === 0) throw new NotFoundError('template');
          // A render request for this replica's queue needs no event: the pending row is its record.
          if (!local) await t.emit(RenderRequested, id, { documentId: id, revision: 1 });
          return id;
        }),
      );
      // A replayed Idempotency-Key made nothing: its request was handed over the first time.
      return { result, job: result.replayed ? null : job };
    });
  }

  async setStatus(acc: AccountContext, id: string, status: DocumentStatus): Promise<void> {
    await this.commands.run(acc.accountId, async (t) => {
      const doc = await this.repo.lock(t.manager, acc.accountId, id);
      if (!doc) throw new NotFoundError('document');
      if (doc.status === status) return;
      const saved = await this.repo.update(t.manager, acc.accountId, id, { status });
      await t.emit(DocumentStatusChanged, id, await this.repo.snapshot(t.manager, saved));
    });
  }

  /**
   * POST /v2/docs/documents/:id/render: a failed document is rendered again (a new revision, so
   * a late result of the old request is dropped). Answered once the request is queued; the
   * outcome shows in renderState, as for a new document.
   */
  async rerender(acc: AccountContext, id: string): Promise<void> {
    await this.withRender(async (local) => {
      const job = await this.commands.run(acc.accountId, async (t) => {
        const doc = await this.repo.lock(t.manager, acc.accountId, id);
        if (!doc) throw new NotFoundError('document');
        if (doc.renderState !== 'failed') throw new DocumentNotFailedError(doc.renderState);
        // Its account template, held until the commit so a delete cannot take it from under the render.
        if (doc.templateId && !builtinTemplate(doc.templateId) && !(await this.repo.lockTemplate(t.manager, acc.accountId, doc.templateId))) {
          throw new TemplateDeletedError();
        }
        const revision = doc.revision + 1;
        await this.repo.update(t.manager, acc.accountId, id, { renderState: 'pending', renderError: null, revision });
        if (!local) await t.emit(RenderRequested, id, { documentId: id, revision });
        return { accountId: acc.accountId, documentId: id, revision, requestedAt: Date.now() };
      });
      return { result: undefined, job };
    });
  }

  async remove(acc: AccountContext, id: string): Promise<void> {
    const key = await this.commands.run(acc.accountId, async (t) => {
      const doc = await this.repo.lock(t.manager, acc.accountId, id);
      if (!doc) throw new NotFoundError('document');
      const snapshot = await this.repo.snapshot(t.manager, doc);
      await this.repo.delete(t.manager, acc.accountId, id);
      await t.emit(DocumentDeleted, id, snapshot);
      return doc.storageKey;
    });
    // After the commit: a storage hiccup leaves an orphan file, never a row without its file.
    if (key) await this.storage.remove(Buckets.documents, key).catch(() => undefined);
  }

  /**
   * The document's file. A document still rendering is waited for a few seconds, then
   * answered 409 with Retry-After; a failed one is 409 with the reason; one deleted during
   * the wait is 404.
   */
  async open(acc: AccountContext, id: string): Promise<{ doc: DocumentEntity; file: StoredObject }> {
    let doc = await this.repo.find(acc.accountId, id);
    if (!doc) throw new NotFoundError('document');
    const deadline = Date.now() + this.config.DOWNLOAD_WAIT_MS;
    while (doc.renderState === 'pending' && Date.now() < deadline) {
      await sleep(200);
      const again = await this.repo.find(acc.accountId, id);
      if (!again) throw new NotFoundError('document');
      doc = again;
    }
    if (doc.renderState === 'pending') throw new RenderPendingError();
    if (doc.renderState === 'failed' || !doc.storageKey) throw new RenderFailedError(doc.renderError ?? 'unknown reason');
    const key = doc.storageKey;
    const file = await withStorage(() => this.storage.get(Buckets.documents, key), 'document');
    return { doc, file };
  }
}
