import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AccountContext } from '@papka/auth';
import {
  InteractionDocumentAttached,
  InteractionDocumentDetached,
  InteractionFileAttached,
  InteractionFileDetached,
  InteractionUpdated,
  type AttachFileDto,
} from '@papka/contracts';
import { Commands, type CommandTx, waitForReplica } from '@papka/messaging';
import { Buckets, NotFoundError, withStorage } from '@papka/platform';
import { OBJECT_STORAGE, type ObjectStorage } from '@papka/storage';
import { CONFIG, type InteractionsConfig } from '../config';
import { ReplicasRepository } from '../replicas/replicas.repository';
import { AttachmentsRepository } from './attachments.repository';

/** Documents (from the document read model) and uploaded files attached to an interaction. */
@Injectable()
export class AttachmentsService {
  constructor(
    private readonly repo: AttachmentsRepository,
    private readonly replicas: ReplicasRepository,
    private readonly commands: Commands,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    @Inject(CONFIG) private readonly config: InteractionsConfig,
  ) {}

  /**
   * The document must be in the read model, of this account and not deleted. Attaching twice is
   * a no-op. The document's row is locked before the interaction's, in the order
   * `document.deleted`'s handler takes them (the replica, then its interactions): the other way
   * round, an attach and that handler deadlocked.
   */
  async attachDocument(acc: AccountContext, id: string, documentId: string): Promise<void> {
    await waitForReplica(() => this.replicas.documentLive(acc.accountId, documentId), this.config.REPLICA_WAIT_MS);
    await this.commands.run(acc.accountId, async (t) => {
      const live = await this.replicas.shareLiveDocument(t.manager, acc.accountId, documentId);
      if (!(await this.repo.lock(t.manager, acc.accountId, id))) throw new NotFoundError('interaction');
      if (!live) throw new NotFoundError('document');
      if (!(await this.repo.attachDocument(t.manager, acc.accountId, id, documentId))) return;
      const s = await this.repo.snapshot(t.manager, acc.accountId, id);
      await t.emit(InteractionDocumentAttached, id, { ...s, document: s.documents.find((d) => d.id === documentId)! });
    });
  }

  async detachDocument(acc: AccountContext, id: string, documentId: string): Promise<void> {
    await this.change(acc, id, async (t) => {
      const before = await this.repo.snapshot(t.manager, acc.accountId, id);
      const document = before.documents.find((d) => d.id === documentId);
      if (!document || !(await this.repo.detachDocument(t.manager, acc.accountId, id, documentId))) throw new NotFoundError('document');
      await t.emit(InteractionDocumentDetached, id, { ...(await this.repo.snapshot(t.manager, acc.accountId, id)), document, reason: 'user' });
    });
  }

  /** The file must be in the account's `uploads` storage (uploaded through /v2/docs/upload). Answers the attachment's id. */
  async attachFile(acc: AccountContext, id: string, dto: AttachFileDto): Promise<string> {
    const key = `${acc.accountId}/${dto.filename}`;
    const info = await withStorage(() => this.storage.stat(Buckets.uploads, key));
    if (!info) throw new NotFoundError('file');
    return this.change(acc, id, async (t) => {
      // Attaching the same upload again renames it (an `interaction.updated`); same name: no-op.
      const file = { id: randomUUID(), filename: dto.filename, name: dto.name, contentType: info.contentType || null, size: info.size, storageKey: key };
      const { id: fileId, outcome } = await this.repo.attachFile(t.manager, acc.accountId, id, file);
      if (outcome === 'unchanged') return fileId;
      const s = await this.repo.snapshot(t.manager, acc.accountId, id);
      if (outcome === 'attached') await t.emit(InteractionFileAttached, id, { ...s, file: s.files.find((f) => f.uuid === fileId)! });
      else await t.emit(InteractionUpdated, id, s);
      return fileId;
    });
  }

  /** `ref` is the attachment's uuid or the uploaded filename. */
  async detachFile(acc: AccountContext, id: string, ref: string): Promise<void> {
    await this.change(acc, id, async (t) => {
      const before = await this.repo.snapshot(t.manager, acc.accountId, id);
      const file = before.files.find((f) => f.uuid === ref || f.filename === ref);
      if (!file || !(await this.repo.detachFile(t.manager, acc.accountId, id, file.uuid))) throw new NotFoundError('file');
      await t.emit(InteractionFileDetached, id, { ...(await this.repo.snapshot(t.manager, acc.accountId, id)), file });
    });
  }

  /** One command on a locked interaction: 404 when it is absent or another account's. */
  private change<T>(acc: AccountContext, id: string, fn: (t: CommandTx) => Promise<T>): Promise<T> {
    return this.commands.run(acc.accountId, async (t) => {
      if (!(await this.repo.lock(t.manager, acc.accountId, id))) throw new NotFoundError('interaction');
      return fn(t);
    });
  }
}
