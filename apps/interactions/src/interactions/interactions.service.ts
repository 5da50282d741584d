import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from 'typeorm';
import type { AccountContext } from '@papka/auth';
import {
  canMoveInteraction,
  INTERACTION_STATUS_NAMES,
  INTERACTION_TRANSITIONS,
  InteractionCreated,
  InteractionDeleted,
  InteractionDocumentAttached,
  InteractionDocumentDetached,
  InteractionFileAttached,
  InteractionFileDetached,
  InteractionPaymentRecorded,
  InteractionPaymentRemoved,
  InteractionStatusChanged,
  InteractionUpdated,
  toWindow,
  type CreateInteractionDto,
  type EventDefinition,
  type InteractionSnapshot,
  type InteractionStatus,
  type InteractionView,
  type ListInteractionsQuery,
  type PaymentSnapshot,
  type RecordPaymentDto,
  type UpdateInteractionDto,
  type AttachFileDto,
} from '@papka/contracts';
import { OutboxRelay, writeToOutbox } from '@papka/messaging';
import { AppError, Buckets, ConflictError, fieldError, Idempotency, NotFoundError, withStorage, type Created } from '@papka/platform';
import { rublesToKopecks } from '@papka/ru';
import { OBJECT_STORAGE, type ObjectStorage, type StoredObject } from '@papka/storage';
import { isCompressed, type ZipSource } from '../bundle/zip-stream';
import { CONFIG, type InteractionsConfig } from '../config';
import { InteractionsRepository } from './interactions.repository';
import { sanitizeDescription } from './sanitize-description';

interface BankAccount { uuid: string; bik: string; number: string; name: string }

/** An object a bundle holds: where the bytes are and the name they get. */
interface StoredEntry {
  name: string;
  bucket: string;
  key: string;
  contentType: string | null;
}

type Tx = EntityManager;

@Injectable()
export class InteractionsService {
  constructor(
    private readonly repo: InteractionsRepository,
    private readonly relay: OutboxRelay,
    private readonly idempotency: Idempotency,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    @Inject(CONFIG) private readonly config: InteractionsConfig,
  ) {}

  list(acc: AccountContext, q: ListInteractionsQuery): Promise<InteractionView[]> {
    return this.repo.list(acc.accountId, { contractorId: q.contractor, status: q.status, from: q.from, to: q.to }, toWindow(q));
  }

  /** A deleted contractor's interactions stay readable; an unknown contractor is a 404. */
  async listForContractor(acc: AccountContext, contractorId: string, q: ListInteractionsQuery): Promise<InteractionView[]> {
    const [known] = await this.repo.ds.query(`SELECT 1 FROM contractor_replica WHERE id = $1 AND account_id = $2`, [contractorId, acc.accountId]);
    if (!known) throw new NotFoundError('contractor');
    return this.list(acc, { ...q, contractor: contractorId });
  }

  async get(acc: AccountContext, id: string): Promise<InteractionView> {
    const view = await this.repo.view(acc.accountId, id);
    if (!view) throw new NotFoundError('interaction');
    return view;
  }

  async create(acc: AccountContext, dto: CreateInteractionDto, key?: string): Promise<Created> {
    const contractor = await this.waitForReplica(() => this.liveContractor(acc.accountId, dto.contractor));
    if (!contractor) throw new NotFoundError('contractor');
    const created = await this.repo.ds.transaction((m) =>
      this.idempotency.run(m, acc.accountId, key, { op: 'create', dto }, async () => {
        const id = randomUUID();
        await m.query(`INSERT INTO interaction (id, account_id, contractor_id, name, sum, status) VALUES ($1, $2, $3, $4, $5, 1)`, [
          id,
          acc.accountId,
          dto.contractor,
          dto.name,
          rublesToKopecks(dto.sum),
        ]);
        await writeToOutbox(m, InteractionCreated, { accountId: acc.accountId, aggregateId: id, data: await this.repo.snapshot(m, id) });
        return id;
      }),
    );
    this.relay.kick();
    return created;
  }

  /** Name and/or sum; an `interaction.updated` when something changed. */
  async update(acc: AccountContext, id: string, dto: UpdateInteractionDto): Promise<void> {
    if (dto.name === undefined && dto.sum === undefined) throw fieldError('name', 'give name or sum (or both)');
    await this.mutate(acc, id, async (m) => {
      const [, changed] = (await m.query(
        `UPDATE interaction SET name = COALESCE($2, name), sum = COALESCE($3, sum), updated_at = now()
          WHERE id = $1 AND (name IS DISTINCT FROM COALESCE($2, name) OR sum IS DISTINCT FROM COALESCE($3, sum))`,
        [id, dto.name ?? null, dto.sum === undefined ? null : rublesToKopecks(dto.sum)],
      )) as [unknown, number];
      if (changed) await this.emit(m, acc, id, InteractionUpdated, (s) => s);
    });
  }

  async setDescription(acc: AccountContext, id: string, html: string): Promise<void> {
    const description = sanitizeDescription(html);
    await this.mutate(acc, id, async (m) => {
      const [, changed] = (await m.query(`UPDATE interaction SET description = $2, updated_at = now() WHERE id = $1 AND description <> $2`, [id, description])) as [
        unknown,
        number,
      ];
      if (!changed) return;
      await this.emit(m, acc, id, InteractionUpdated, (s) => s);
    });
  }

  /** Moves the status along INTERACTION_TRANSITIONS; the same status again is a no-op. */
  async setStatus(acc: AccountContext, id: string, status: InteractionStatus): Promise<void> {
    await this.mutate(acc, id, async (m, row) => {
      const from = row.status as InteractionStatus;
      if (from === status) return;
      if (!canMoveInteraction(from, status)) {
        const allowed = INTERACTION_TRANSITIONS[from].map((s) => `${s} (${INTERACTION_STATUS_NAMES[s]})`).join(', ');
        throw new ConflictError(
          'INVALID_STATUS_TRANSITION',
          `status cannot go from ${from} (${INTERACTION_STATUS_NAMES[from]}) to ${status} (${INTERACTION_STATUS_NAMES[status]}); allowed: ${allowed}`,
        );
      }
      await m.query(`UPDATE interaction SET status = $2, updated_at = now() WHERE id = $1`, [id, status]);
      await this.emit(m, acc, id, InteractionStatusChanged, (s) => ({ ...s, previousStatus: from }));
    });
  }

  async recordPayment(acc: AccountContext, id: string, dto: RecordPaymentDto, key?: string): Promise<Created> {
    let created: Created | undefined;
    await this.mutate(acc, id, async (m, row) => {
      created = await this.idempotency.run(m, acc.accountId, key, { op: 'payment', id, dto }, async () => {
        const paymentId = randomUUID();
        const bank = await this.contractorBank(m, row.contractor_id, dto.contractorBank ?? null);
        await m.query(
          `INSERT INTO interaction_payment (id, interaction_id, type, name, sum, date, contractor_bank) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [paymentId, id, dto.type, dto.name, rublesToKopecks(dto.sum), dto.date.slice(0, 10), bank ? JSON.stringify(bank) : null],
        );
        await this.repo.touch(m, id);
        await this.emit(m, acc, id, InteractionPaymentRecorded, (s) => ({ ...s, payment: paymentOf(s, paymentId) }));
        return paymentId;
      });
    });
    return created!;
  }

  async removePayment(acc: AccountContext, id: string, paymentId: string): Promise<void> {
    await this.mutate(acc, id, async (m) => {
      const before = await this.repo.snapshot(m, id);
      const payment = before.payments.find((p) => p.uuid === paymentId);
      if (!payment) throw new NotFoundError('payment');
      await m.query(`DELETE FROM interaction_payment WHERE id = $1 AND interaction_id = $2`, [paymentId, id]);
      await this.repo.touch(m, id);
      await this.emit(m, acc, id, InteractionPaymentRemoved, (s) => ({ ...s, payment }));
    });
  }

  /** The document must be in the read model, of this account and not deleted. Attaching twice is a no-op. */
  async attachDocument(acc: AccountContext, id: string, documentId: string): Promise<void> {
    await this.waitForReplica(() => this.liveDocument(this.repo.ds.manager, acc.accountId, documentId));
    await this.mutate(acc, id, async (m) => {
      // FOR SHARE: a concurrent document.deleted waits for this attach, then detaches it.
      if (!(await this.liveDocument(m, acc.accountId, documentId, true))) throw new NotFoundError('document');
      const inserted: unknown[] = await m.query(
        `INSERT INTO interaction_document (interaction_id, document_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING document_id`,
        [id, documentId],
      );
      if (inserted.length === 0) return;
      await this.repo.touch(m, id);
      await this.emit(m, acc, id, InteractionDocumentAttached, (s) => ({ ...s, document: s.documents.find((d) => d.id === documentId)! }));
    });
  }

  async detachDocument(acc: AccountContext, id: string, documentId: string): Promise<void> {
    await this.mutate(acc, id, async (m) => {
      const before = await this.repo.snapshot(m, id);
      const document = before.documents.find((d) => d.id === documentId);
      const removed: unknown[] = await m.query(`DELETE FROM interaction_document WHERE interaction_id = $1 AND document_id = $2 RETURNING document_id`, [
        id,
        documentId,
      ]);
      if (removed.length === 0 || !document) throw new NotFoundError('document');
      await this.repo.touch(m, id);
      await this.emit(m, acc, id, InteractionDocumentDetached, (s) => ({ ...s, document, reason: 'user' as const }));
    });
  }

  /** The file must be in the account's `uploads` storage (uploaded through /v2/docs/upload). */
  async attachFile(acc: AccountContext, id: string, dto: AttachFileDto): Promise<string> {
    const key = `${acc.accountId}/${dto.filename}`;
    const info = await withStorage(() => this.storage.stat(Buckets.uploads, key));
    if (!info) throw new NotFoundError('file');
    let fileId: string = randomUUID();
    await this.mutate(acc, id, async (m) => {
      // Attaching the same upload again renames it (an `interaction.updated`); same name: no-op.
      const rows: { id: string; inserted: boolean }[] = await m.query(
        `INSERT INTO interaction_file (id, interaction_id, filename, name, content_type, size, storage_key) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (interaction_id, filename) DO UPDATE SET name = excluded.name WHERE interaction_file.name <> excluded.name
         RETURNING id, (xmax = 0) AS inserted`,
        [fileId, id, dto.filename, dto.name, info.contentType || null, info.size, key],
      );
      if (!rows[0]) {
        const [same] = (await m.query(`SELECT id FROM interaction_file WHERE interaction_id = $1 AND filename = $2`, [id, dto.filename])) as { id: string }[];
        fileId = same!.id;
        return;
      }
      fileId = rows[0].id;
      await this.repo.touch(m, id);
      if (rows[0].inserted) await this.emit(m, acc, id, InteractionFileAttached, (s) => ({ ...s, file: s.files.find((f) => f.uuid === fileId)! }));
      else await this.emit(m, acc, id, InteractionUpdated, (s) => s);
    });
    return fileId;
  }

  /** `ref` is the attachment's uuid or the uploaded filename. */
  async detachFile(acc: AccountContext, id: string, ref: string): Promise<void> {
    await this.mutate(acc, id, async (m) => {
      const before = await this.repo.snapshot(m, id);
      const file = before.files.find((f) => f.uuid === ref || f.filename === ref);
      if (!file) throw new NotFoundError('file');
      await m.query(`DELETE FROM interaction_file WHERE id = $1`, [file.uuid]);
      await this.repo.touch(m, id);
      await this.emit(m, acc, id, InteractionFileDetached, (s) => ({ ...s, file }));
    });
  }

  async remove(acc: AccountContext, id: string): Promise<void> {
    await this.mutate(acc, id, async (m) => {
      const last = await this.repo.snapshot(m, id);
      await m.query(`DELETE FROM interaction WHERE id = $1`, [id]);
      await writeToOutbox(m, InteractionDeleted, { accountId: acc.accountId, aggregateId: id, data: last });
    });
  }

  /** One attached document's file, opened, with the name it is downloaded under. */
  async openDocument(acc: AccountContext, id: string, documentId: string): Promise<{ name: string; file: StoredObject }> {
    await this.interactionName(acc, id);
    const [doc] = await this.documentFiles(acc.accountId, id, documentId);
    if (!doc) throw new NotFoundError('document');
    if (!doc.storage_key) {
      throw doc.render_state === 'failed'
        ? new AppError(409, 'RENDER_FAILED', 'The document could not be rendered, so it has no file')
        : new AppError(409, 'RENDER_PENDING', 'The document is still being rendered, try again shortly', undefined, { 'Retry-After': '2' });
    }
    const key = doc.storage_key;
    return { name: withExt(doc.name, doc.filename), file: await withStorage(() => this.storage.get(Buckets.documents, key)) };
  }

  /**
   * What a bundle streams: rendered documents first, then files, names made unique. Every
   * object is checked before the first byte goes out, so a storage outage is still a clean 503
   * and not a truncated archive. Documents without a file yet (rendering or failed) and objects
   * gone from storage are left out and counted in `skipped`.
   */
  async bundle(acc: AccountContext, id: string): Promise<{ name: string; sources: ZipSource[]; skipped: number }> {
    const name = await this.interactionName(acc, id);
    const docs = await this.documentFiles(acc.accountId, id);
    const files: { name: string; filename: string; storage_key: string; content_type: string | null }[] = await this.repo.ds.query(
      `SELECT name, filename, storage_key, content_type FROM interaction_file WHERE interaction_id = $1 ORDER BY created_at, id`,
      [id],
    );
    const used = new Set<string>();
    const wanted: StoredEntry[] = [
      ...docs.flatMap((d) =>
        d.storage_key ? [{ name: `documents/${withExt(d.name, d.filename)}`, bucket: Buckets.documents, key: d.storage_key, contentType: d.content_type }] : [],
      ),
      ...files.map((f) => ({ name: `files/${withExt(f.name, f.filename)}`, bucket: Buckets.uploads, key: f.storage_key, contentType: f.content_type })),
    ];
    const sources: ZipSource[] = [];
    for (const e of wanted) {
      if (!(await withStorage(() => this.storage.stat(e.bucket, e.key)))) continue;
      sources.push({
        name: uniqueName(e.name, used),
        compressed: isCompressed(e.contentType),
        open: async () => (await this.storage.get(e.bucket, e.key)).stream,
      });
    }
    return { name: withExt(name, null), sources, skipped: docs.length + files.length - sources.length };
  }

  /** 404 for an interaction that is absent or another account's; its name otherwise. */
  private async interactionName(acc: AccountContext, id: string): Promise<string> {
    const [row] = (await this.repo.ds.query(`SELECT name FROM interaction WHERE id = $1 AND account_id = $2`, [id, acc.accountId])) as { name: string }[];
    if (!row) throw new NotFoundError('interaction');
    return row.name;
  }

  private documentFiles(accountId: string, interactionId: string, documentId?: string) {
    return this.repo.ds.query(
      `SELECT d.name, d.filename, d.storage_key, d.content_type, d.render_state
         FROM interaction_document l JOIN document_replica d ON d.id = l.document_id AND NOT d.deleted AND d.account_id = $1
        WHERE l.interaction_id = $2 ${documentId ? 'AND d.id = $3' : ''} ORDER BY l.attached_at, d.id`,
      documentId ? [accountId, interactionId, documentId] : [accountId, interactionId],
    ) as Promise<{ name: string; filename: string | null; storage_key: string | null; content_type: string | null; render_state: string }[]>;
  }

  /** Locks the interaction (404 when absent or another account's), runs `fn`, commits, kicks the relay. */
  private async mutate(acc: AccountContext, id: string, fn: (m: Tx, row: { contractor_id: string; status: number }) => Promise<void>): Promise<void> {
    await this.repo.ds.transaction(async (m) => {
      const row = await this.repo.lock(m, acc.accountId, id);
      if (!row) throw new NotFoundError('interaction');
      await fn(m, row);
    });
    this.relay.kick();
  }

  private async emit<D, T extends string>(
    m: Tx,
    acc: AccountContext,
    id: string,
    event: EventDefinition<D, T>,
    data: (s: InteractionSnapshot) => D,
  ): Promise<void> {
    await writeToOutbox(m, event, { accountId: acc.accountId, aggregateId: id, data: data(await this.repo.snapshot(m, id)) });
  }

  private async contractorBank(m: Tx, contractorId: string, ref: string | null): Promise<BankAccount | null> {
    if (ref === null || ref === '') return null;
    const [row] = (await m.query(`SELECT bank_accounts FROM contractor_replica WHERE id = $1`, [contractorId])) as { bank_accounts: BankAccount[] }[];
    const bank = row?.bank_accounts.find((b) => b.uuid === ref || b.number === ref);
    if (!bank) throw fieldError('contractorBank', "contractorBank must be one of the interaction contractor's bank accounts (its uuid or number) or null");
    return bank;
  }

  private async liveContractor(accountId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.repo.ds.query(`SELECT 1 FROM contractor_replica WHERE id = $1 AND account_id = $2 AND NOT deleted`, [id, accountId]);
    return rows.length > 0;
  }

  private async liveDocument(m: Tx, accountId: string, id: string, lock = false): Promise<boolean> {
    const rows: unknown[] = await m.query(
      `SELECT 1 FROM document_replica WHERE id = $1 AND account_id = $2 AND NOT deleted ${lock ? 'FOR SHARE' : ''}`,
      [id, accountId],
    );
    return rows.length > 0;
  }

  /**
   * A contractor or document created a moment ago reaches the read model through Kafka a
   * little later; a miss waits up to REPLICA_WAIT_MS before the caller answers 404.
   */
  private async waitForReplica(found: () => Promise<boolean>): Promise<boolean> {
    const deadline = Date.now() + this.config.REPLICA_WAIT_MS;
    for (;;) {
      if (await found()) return true;
      if (Date.now() >= deadline) return false;
      await sleep(100);
    }
  }
}

function paymentOf(s: InteractionSnapshot, id: string): PaymentSnapshot {
  const p = s.payments.find((x) => x.uuid === id);
  if (!p) throw new Error(`payment ${id} not in its interaction's snapshot`);
  return p;
}

/** `Счёт № 15` + `ab12.pdf` -> `Счёт № 15.pdf`; path separators and control characters become `_`. */
export function withExt(name: string, filename: string | null): string {
  const safe = name.replace(/[/\\\u0000-\u001f]/g, '_').trim().slice(0, 150) || 'file';
  const ext = filename?.includes('.') ? filename.slice(filename.lastIndexOf('.')) : '';
  return ext && !safe.toLowerCase().endsWith(ext.toLowerCase()) ? `${safe}${ext}` : safe;
}

/** `a.pdf`, `a (2).pdf`, `a (3).pdf`... */
export function uniqueName(name: string, used: Set<string>): string {
  let candidate = name;
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > name.lastIndexOf('/') ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
  used.add(candidate.toLowerCase());
  return candidate;
}
