import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  DocumentFailed,
  DocumentRendered,
  type ContractorSnapshot,
  type OrganizationSnapshot,
  type RenderRequest,
} from '@papka/contracts';
import type { CommandTx } from '@papka/messaging';
import { isDatabaseUnavailable } from '@papka/persistence';
import { OBJECT_STORAGE, StorageUnavailableError, type ObjectStorage } from '@papka/storage';
import { Buckets, FileStorageUnavailableError } from '@papka/platform';
import { kopecksToRubles } from '@papka/ru';
import type { DocumentEntity } from '../documents/document.entity';
import { DocumentsRepository } from '../documents/documents.repository';
import { DocxTemplateError, fillDocx } from '../docx/docx-filler';
import { convertDocxToPdf, findSoffice } from '../docx/libreoffice';
import { ReplicasRepository } from '../replicas/replicas.repository';
import { buildTemplateData, builtinTemplate, TemplateDataError } from '../templates/builtin/builtin';
import { compileTemplate, renderHtml, TemplateRenderError, TemplateSyntaxError, type CompiledTemplate } from '../templates/engine/handlebars-engine';
import { TemplatesRepository } from '../templates/templates.repository';
import { UploadsRepository } from '../uploads/uploads.repository';
import { UploadsService } from '../uploads/uploads.service';
import { RenderPoolHost } from './render-pool.provider';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** A problem with the template or its data: retrying cannot help. */
const isPermanent = (err: unknown) =>
  err instanceof TemplateSyntaxError ||
  err instanceof TemplateRenderError ||
  err instanceof TemplateDataError ||
  err instanceof DocxTemplateError;

/** Object storage is down, whether met directly (the PDF's put) or through withStorage (a template's read). */
export const isStorageUnavailable = (err: unknown) => err instanceof StorageUnavailableError || err instanceof FileStorageUnavailableError;

/**
 * A dependency of the render (object storage) is down: the request is not at fault, so it must
 * neither burn an attempt nor be dead-lettered. The event consumer already treats a database
 * outage that way (the record is redelivered, nothing committed, no attempt counted) through
 * isDatabaseUnavailable, which this error satisfies by its connection `code`; the render is
 * then simply tried again once the consumer redelivers it, for as long as the outage lasts.
 */
export class RenderDependencyUnavailableError extends Error {
  readonly code = 'ECONNREFUSED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RenderDependencyUnavailableError';
  }
}

interface Produced {
  bytes: Buffer;
  contentType: string;
  ext: string;
}

/**
 * Produces a document's file: HTML templates (built-in or uploaded) through Handlebars and
 * the warm Chromium, DOCX templates filled (and converted to PDF where LibreOffice is
 * installed). Runs in the render-request consumer's transaction, and reads the other features'
 * rows through their repositories in it.
 */
@Injectable()
export class DocumentRendererService {
  private readonly logger = new Logger(DocumentRendererService.name);
  private readonly compiledBuiltins = new Map<string, CompiledTemplate>();

  constructor(
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly host: RenderPoolHost,
    private readonly documents: DocumentsRepository,
    private readonly templates: TemplatesRepository,
    private readonly uploadRows: UploadsRepository,
    private readonly replicas: ReplicasRepository,
    private readonly uploads: UploadsService,
  ) {}

  /**
   * Renders the document of a request. A dependency that is down (object storage, PostgreSQL)
   * throws an outage the consumer redelivers without counting an attempt, for as long as it
   * lasts. Other transient failures (browser crash, timeout) throw, so the request is retried;
   * permanent ones, or any failure on the last attempt, mark the document failed with the
   * reason: it never stays pending. `t` is the consumer's transaction.
   */
  async handle(t: CommandTx, req: RenderRequest, lastAttempt: boolean): Promise<void> {
    const m = t.manager;
    const doc = await this.documents.lock(m, t.accountId, req.documentId);
    if (!doc || doc.revision !== req.revision || doc.renderState !== 'pending') return; // deleted, superseded or done
    let stored: { produced: Produced; filename: string; key: string };
    try {
      // The file is stored inside the failure branch: a put that fails must not leave the
      // request to be dead-lettered with its document pending.
      stored = await this.store(doc, await this.produce(doc, m));
    } catch (err) {
      if (isStorageUnavailable(err)) {
        this.logger.warn(`document ${doc.id} waits for object storage: ${(err as Error).message}`);
        throw new RenderDependencyUnavailableError(`object storage unavailable while rendering document ${doc.id}`, { cause: err });
      }
      if (isDatabaseUnavailable(err)) throw err;
      if (!isPermanent(err) && !lastAttempt) throw err;
      this.logger.warn(`document ${doc.id} failed to render: ${(err as Error).message}`);
      const failed = await this.documents.update(m, t.accountId, doc.id, {
        renderState: 'failed',
        renderError: (err as Error).message.slice(0, 1000),
      });
      await t.emit(DocumentFailed, doc.id, await this.documents.snapshot(m, failed));
      return;
    }
    const { produced, filename, key } = stored;
    const rendered = await this.documents.update(m, t.accountId, doc.id, {
      renderState: 'rendered',
      renderError: null,
      filename,
      contentType: produced.contentType,
      storageKey: key,
    });
    await t.emit(DocumentRendered, doc.id, await this.documents.snapshot(m, rendered));
  }

  private async store(doc: DocumentEntity, produced: Produced): Promise<{ produced: Produced; filename: string; key: string }> {
    const filename = `${randomBytes(5).toString('hex')}.${produced.ext}`;
    const key = `${doc.accountId}/${filename}`;
    await this.storage.ensureBucket(Buckets.documents);
    await this.storage.put(Buckets.documents, key, produced.bytes, {
      size: produced.bytes.length,
      contentType: produced.contentType,
      metadata: { document: doc.id },
    });
    return { produced, filename, key };
  }

  private async produce(doc: DocumentEntity, m: EntityManager): Promise<Produced> {
    const replica = doc.contractorId ? await this.replicas.contractor(doc.accountId, doc.contractorId, m) : null;
    const contractor = (replica?.snapshot ?? null) as ContractorSnapshot | null;
    const organization = ((await this.replicas.organization(doc.accountId, m))?.snapshot ?? null) as OrganizationSnapshot | null;

    const builtin = doc.templateId ? builtinTemplate(doc.templateId) : undefined;
    if (builtin) {
      let compiled = this.compiledBuiltins.get(builtin.uuid);
      if (!compiled) {
        compiled = compileTemplate(builtin.source);
        this.compiledBuiltins.set(builtin.uuid, compiled);
      }
      const data = await buildTemplateData(builtin.kind, { masks: doc.masks as Record<string, unknown>, contractor, organization, sum: doc.sum, now: doc.createdAt });
      return this.pdf(renderHtml(compiled, data, { font: builtin.font }));
    }

    // An account's template, or an upload used directly as one.
    let filename = doc.sourceFilename;
    let font = 'Arial';
    if (doc.templateId) {
      const t = await this.templates.find(doc.accountId, doc.templateId, m);
      if (!t) throw new TemplateRenderError('the template was deleted before the document was rendered');
      filename = t.filename;
      font = t.font;
    }
    const upload = filename ? await this.uploadRows.findByFilename(doc.accountId, filename, m) : null;
    if (!upload) throw new TemplateRenderError('the template file is gone');
    const source = await this.uploads.read(upload);
    const data = {
      ...(doc.masks as Record<string, unknown>),
      masks: doc.masks,
      document: { name: doc.name, type: doc.type, sum: kopecksToRubles(doc.sum), createdAt: doc.createdAt.toISOString() },
      contractor: contractor ? { ...contractor.mainInfo, bankInfo: contractor.bankInfo } : null,
      organization,
    };
    if (upload.kind === 'docx') {
      const filled = fillDocx(source, data);
      if (findSoffice()) return { bytes: await convertDocxToPdf(filled), contentType: 'application/pdf', ext: 'pdf' };
      return { bytes: filled, contentType: DOCX, ext: 'docx' };
    }
    return this.pdf(renderHtml(compileTemplate(source.toString('utf8')), data, { font }));
  }

  private async pdf(html: string): Promise<Produced> {
    if (!this.host.pool) throw new Error('rendering is disabled on this replica (RENDER_ENABLED=false)');
    return { bytes: await this.host.pool.render(html), contentType: 'application/pdf', ext: 'pdf' };
  }
}
