import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DocumentFailed, DocumentRendered } from '@papka/contracts';
import { Commands } from '@papka/messaging';
import { isDatabaseUnavailable } from '@papka/persistence';
import { OBJECT_STORAGE, StorageUnavailableError, type ObjectStorage } from '@papka/storage';
import { Buckets, FileStorageUnavailableError } from '@papka/platform';
import { RenderBrowserUnavailableError } from '@papka/render-pool';
import { kopecksToRubles } from '@papka/ru';
import type { DocumentEntity } from '../documents/document.entity';
import { DocumentsRepository, snapshotOf, type RenderOutcome } from '../documents/documents.repository';
import { DocxTemplateError, fillDocx } from '../docx/docx-filler';
import { convertDocxToPdf, findSoffice } from '../docx/libreoffice';
import { buildTemplateData, builtinTemplate, TemplateDataError } from '../templates/builtin/builtin';
import { compileTemplate, renderHtml, TemplateRenderError, TemplateSyntaxError, type CompiledTemplate } from '../templates/engine/handlebars-engine';
import type { Upload } from '../uploads/upload.entity';
import { UploadsService } from '../uploads/uploads.service';
import { RenderInputRepository, type RenderInput } from './render-input.repository';
import { RenderMetrics, type RenderPhase } from './render-metrics';
import { RenderPoolHost } from './render-pool.provider';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
/**
 * Compiled uploaded templates kept (an upload never changes, so its key is its version): at most
 * this many, and at most this much source in all. A compiled template takes about five times its
 * source in heap, so 16 MiB of source is some 80 MB; a larger template is compiled for each render.
 */
const COMPILED_UPLOADS = 256;
const COMPILED_UPLOADS_SOURCE_BYTES = 16 * 1024 * 1024;

/** A problem with the template or its data: retrying cannot help. */
const isPermanent = (err: unknown) =>
  err instanceof TemplateSyntaxError ||
  err instanceof TemplateRenderError ||
  err instanceof TemplateDataError ||
  err instanceof DocxTemplateError;

/** Object storage is down, whether met directly (the PDF's put) or through withStorage (a template's read). */
export const isStorageUnavailable = (err: unknown) => err instanceof StorageUnavailableError || err instanceof FileStorageUnavailableError;

/**
 * A dependency of the render (object storage, or Chromium down and not relaunching) is down: the request is not at fault, so it must
 * neither burn an attempt nor fail the document; it is tried again once the outage ends (see
 * RenderQueue). Its connection `code` makes isDatabaseUnavailable recognise it as an outage too.
 */
export class RenderDependencyUnavailableError extends Error {
  readonly code = 'ECONNREFUSED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RenderDependencyUnavailableError';
  }
}

/** A render request as the queue holds it. */
export interface RenderJob {
  accountId: string;
  documentId: string;
  revision: number;
  /** When the request was written (its event's occurredAt, ms): the queue's wait is measured from it. */
  requestedAt?: number;
}

interface Produced {
  bytes: Buffer;
  contentType: string;
  ext: string;
}

/**
 * Produces a document's file: HTML templates (built-in or uploaded) through Handlebars and
 * the warm Chromium, DOCX templates filled (and converted to PDF where LibreOffice is
 * installed). No transaction is open while it works: it reads the document and what the
 * template needs, renders and stores the file, then writes the outcome and its event in one
 * short transaction, only if the document still waits for that revision.
 */
@Injectable()
export class DocumentRendererService {
  private readonly logger = new Logger(DocumentRendererService.name);
  private readonly compiledBuiltins = new Map<string, CompiledTemplate>();
  /** By the upload's storage key; least recently used first. */
  private readonly compiledUploads = new LRUCache<string, CompiledTemplate>({
    max: COMPILED_UPLOADS,
    maxSize: COMPILED_UPLOADS_SOURCE_BYTES,
    sizeCalculation: (t) => Math.max(1, t.source.length),
  });

  constructor(
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly host: RenderPoolHost,
    private readonly documents: DocumentsRepository,
    private readonly inputs: RenderInputRepository,
    private readonly uploads: UploadsService,
    private readonly commands: Commands,
    private readonly metrics: RenderMetrics,
  ) {}

  /** Runs `fn`, recording its time under `phase`. */
  private async timed<T>(phase: RenderPhase, fn: () => Promise<T> | T): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.metrics.phase(phase, (performance.now() - t) / 1000);
    }
  }

  /**
   * Renders the document of a request and records the outcome. A dependency that is down
   * (object storage, PostgreSQL, no browser while Chromium cannot be relaunched) throws an
   * outage, to be tried again without counting an attempt. Other transient failures (a browser
   * or page crash during this render, a timeout) throw, to be retried, unless
   * `lastAttempt`; permanent ones, or any failure on the last attempt, mark the document
   * failed with the reason: it never stays pending. A request for a document deleted,
   * superseded by a newer revision or already done changes nothing.
   */
  async render(job: RenderJob, lastAttempt: boolean): Promise<'rendered' | 'failed' | 'skipped'> {
    // The document and every row its template needs, in one statement.
    const t0 = performance.now();
    const input = await this.inputs.find(job.accountId, job.documentId);
    const doc = input?.doc;
    if (!input || !doc || doc.revision !== job.revision || doc.renderState !== 'pending') return 'skipped';
    let stored: { produced: Produced; filename: string; key: string };
    try {
      // The file is stored inside the failure branch: a put that fails must not leave the
      // document pending for good.
      stored = await this.store(doc, await this.produce(input, t0));
    } catch (err) {
      if (isStorageUnavailable(err)) {
        this.logger.warn(`document ${doc.id} waits for object storage: ${(err as Error).message}`);
        throw new RenderDependencyUnavailableError(`object storage unavailable while rendering document ${doc.id}`, { cause: err });
      }
      if (err instanceof RenderBrowserUnavailableError) {
        // No browser to render on (Chromium down, its relaunch failing): not this document's
        // doing, unlike a crash met while it rendered, which counts.
        this.logger.warn(`document ${doc.id} waits for Chromium: ${err.message}`);
        throw new RenderDependencyUnavailableError(`Chromium unavailable while rendering document ${doc.id}`, { cause: err });
      }
      if (isDatabaseUnavailable(err)) throw err;
      if (!isPermanent(err) && !lastAttempt) throw err;
      this.logger.warn(`document ${doc.id} failed to render: ${(err as Error).message}`);
      const failed = await this.finish(input, { renderState: 'failed', renderError: failureReason(err), filename: null, contentType: null, storageKey: null });
      return failed ? 'failed' : 'skipped';
    }
    const { produced, filename, key } = stored;
    const rendered = await this.finish(input, { renderState: 'rendered', renderError: null, filename, contentType: produced.contentType, storageKey: key });
    if (!rendered) {
      // Deleted, superseded or done by another replica meanwhile: this file belongs to nothing.
      await this.storage.remove(Buckets.documents, key).catch(() => undefined);
      return 'skipped';
    }
    return 'rendered';
  }

  /**
   * The outcome and its event; false when the document no longer waits for this revision. The
   * usual case is one statement, its event built from the rows the render read: written only if
   * neither the document nor its contractor's replica has changed since. Otherwise (changed,
   * deleted, superseded, done) the outcome goes through a short transaction that reads them again.
   */
  private finish({ doc, replica, versions }: RenderInput, outcome: RenderOutcome): Promise<boolean> {
    const event = outcome.renderState === 'rendered' ? DocumentRendered : DocumentFailed;
    return this.timed('db', async () => {
      const at = new Date();
      const unchanged = this.documents.finishRenderIfUnchanged(doc.accountId, doc.id, doc.revision, versions, outcome, at);
      const fast = await this.commands.runOne(doc.accountId, unchanged, event, doc.id, snapshotOf({ ...doc, ...outcome, updatedAt: at }, replica));
      if (fast.envelope) return true;
      return this.commands.run(doc.accountId, async (t) => {
        const snapshot = await this.documents.finishRender(t.manager, doc.accountId, doc.id, doc.revision, outcome);
        if (!snapshot) return false;
        await t.emit(event, doc.id, snapshot);
        return true;
      });
    });
  }

  private async store(doc: DocumentEntity, produced: Produced): Promise<{ produced: Produced; filename: string; key: string }> {
    const filename = `${randomBytes(5).toString('hex')}.${produced.ext}`;
    // Under the document's id: the short random filename (the API's) can repeat within an
    // account, and a key made of it alone would have one document's put overwrite another's file.
    const key = `${doc.accountId}/${doc.id}/${filename}`;
    await this.timed('put', async () => {
      await this.storage.ensureBucket(Buckets.documents);
      await this.storage.put(Buckets.documents, key, produced.bytes, {
        size: produced.bytes.length,
        contentType: produced.contentType,
        metadata: { document: doc.id },
      });
    });
    return { produced, filename, key };
  }

  private async produce({ doc, contractor, organization, template, upload }: RenderInput, t0: number): Promise<Produced> {
    const builtin = doc.templateId ? builtinTemplate(doc.templateId) : undefined;
    if (builtin) {
      let compiled = this.compiledBuiltins.get(builtin.uuid);
      if (!compiled) {
        compiled = compileTemplate(builtin.source);
        this.compiledBuiltins.set(builtin.uuid, compiled);
      }
      const data = await buildTemplateData(builtin.kind, { masks: doc.masks as Record<string, unknown>, contractor, organization, sum: doc.sum, now: doc.createdAt });
      this.metrics.phase('data', (performance.now() - t0) / 1000);
      const c = compiled;
      return this.pdf(await this.timed('html', () => renderHtml(c, data, { font: builtin.font })));
    }

    // An account's template, or an upload used directly as one.
    let filename = doc.sourceFilename;
    let font = 'Arial';
    if (doc.templateId) {
      if (!template) throw new TemplateRenderError('the template was deleted before the document was rendered');
      filename = template.filename;
      font = template.font;
    }
    if (!filename || !upload || upload.filename !== filename) throw new TemplateRenderError('the template file is gone');
    const data = {
      ...(doc.masks as Record<string, unknown>),
      masks: doc.masks,
      // `sum` in rubles as the API gives it; the helpers (`money`, `words`) take kopecks: `sumKopecks`.
      document: { name: doc.name, type: doc.type, sum: kopecksToRubles(doc.sum), sumKopecks: doc.sum, createdAt: doc.createdAt.toISOString() },
      contractor: contractor ? { ...contractor.mainInfo, bankInfo: contractor.bankInfo } : null,
      organization,
    };
    if (upload.kind === 'docx') {
      const filled = fillDocx(await this.uploads.read(upload), data);
      this.metrics.phase('data', (performance.now() - t0) / 1000);
      if (findSoffice()) return { bytes: await convertDocxToPdf(filled), contentType: 'application/pdf', ext: 'pdf' };
      return { bytes: filled, contentType: DOCX, ext: 'docx' };
    }
    const compiled = await this.compiledUpload(upload);
    this.metrics.phase('data', (performance.now() - t0) / 1000);
    return this.pdf(await this.timed('html', () => renderHtml(compiled, data, { font })));
  }

  /** An uploaded HTML template, read and compiled once per upload (its content never changes). */
  private async compiledUpload(upload: Upload): Promise<CompiledTemplate> {
    const key = upload.storageKey;
    let compiled = this.compiledUploads.get(key);
    if (!compiled) {
      compiled = compileTemplate((await this.uploads.read(upload)).toString('utf8'));
      this.compiledUploads.set(key, compiled);
    }
    return compiled;
  }

  private async pdf(html: string): Promise<Produced> {
    const pool = this.host.pool;
    if (!pool) throw new Error('rendering is disabled on this replica (RENDER_ENABLED=false)');
    return { bytes: await this.timed('pdf', () => pool.render(html)), contentType: 'application/pdf', ext: 'pdf' };
  }
}

/**
 * What a failed document says, as text PostgreSQL and JSON take: Handlebars quotes ~20 characters
 * around a syntax error and may cut an emoji in half, and a lone surrogate made the outcome's
 * event row (jsonb) fail, so the document stayed pending for good. Well-formed, without NUL, at
 * most 1,000 characters, cut between code points.
 */
export function failureReason(err: unknown): string {
  const text = String((err as Error)?.message ?? err).toWellFormed().replace(/\u0000/g, '');
  if (text.length <= 1000) return text;
  const points = [...text];
  return points.length <= 1000 ? text : points.slice(0, 1000).join('');
}
