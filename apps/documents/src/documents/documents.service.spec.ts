import { Readable } from 'node:stream';
import type { AccountContext } from '@papka/auth';
import { plainToInstance } from 'class-transformer';
import { ConstructorDto, DocumentStatus, type MaskDef } from '@papka/contracts';
import { AppError, NotFoundError, ValidationFailedError, type Idempotency } from '@papka/platform';
import type { ObjectStorage } from '@papka/storage';
import { fakeCommands } from '@papka/testing';
import type { DocumentsConfig } from '../config';
import type { ContractorReplica } from '../replicas/contractor-replica.entity';
import type { ReplicasRepository } from '../replicas/replicas.repository';
import type { Template } from '../templates/template.entity';
import type { ConstructorInputRepository } from './constructor-input.repository';
import type { DocumentEntity } from './document.entity';
import type { DocumentChanges, DocumentsRepository, NewDocument } from './documents.repository';
import { RenderHandoff } from './render-handoff';
import { buildTemplateData } from '../templates/builtin/template-data';
import { BUILTIN_TEMPLATES } from '../templates/builtin/builtin';
import type { TemplateFileCheck } from '../templates/template-file-check';
import { DocumentsService } from './documents.service';

const acc = { accountId: 'acc-1', userId: 'u' } as AccountContext;
const other = { accountId: 'acc-2', userId: 'v' } as AccountContext;
const CONTRACTOR = '9a0c7a52-4a49-4b8a-9f5e-1b8a2f0a6c01';
const TEMPLATE = '3f1f5c9e-2d7b-4c1e-8a51-0b5c8e7d6a02';
const MASKS: MaskDef[] = [
  { id: 'number', name: 'Номер', type: 'string', required: true },
  { id: 'amount', name: 'Сумма', type: 'money' },
];

/** Repository stand-in: the documents of every account, each method seeing only its account's, as the SQL filters do. */
function fakeDocuments() {
  const rows = new Map<string, DocumentEntity>();
  const own = (accountId: string, id: string) => {
    const row = rows.get(id);
    return row && row.accountId === accountId ? row : null;
  };
  return {
    rows,
    // The insert's statement, run by `manager.query` below (the fake commands run statements through it).
    insert: jest.fn((accountId: string, row: NewDocument, at: Date) => ({ sql: 'insert document', params: [accountId, row, at] })),
    manager: {
      query: jest.fn(async (_sql: string, [accountId, row, at]: [string, NewDocument, Date]) => {
        rows.set(row.id, { ...row, accountId, filename: null, contentType: null, storageKey: null, createdAt: at, updatedAt: at });
        return [{ id: row.id }];
      }),
    },
    find: jest.fn(async (accountId: string, id: string) => (own(accountId, id) ? { ...own(accountId, id)! } : null)),
    lock: jest.fn(async (_m: unknown, accountId: string, id: string) => own(accountId, id)),
    update: jest.fn(async (_m: unknown, accountId: string, id: string, changes: DocumentChanges) => Object.assign(own(accountId, id)!, changes)),
    delete: jest.fn(async (_m: unknown, accountId: string, id: string) => void (own(accountId, id) && rows.delete(id))),
    snapshot: jest.fn(async (_m: unknown, doc: DocumentEntity) => ({ uuid: doc.id, status: doc.status, renderState: doc.renderState })),
    list: jest.fn(async () => []),
    /** Whether the account's template is still there (wired to the test's `templates` below). */
    lockTemplate: jest.fn(async (_m: unknown, _accountId: string, _id: string) => true),
  };
}

function fakeReplicas() {
  const contractors = new Map<string, ContractorReplica>();
  return {
    contractors,
    contractor: jest.fn(async (accountId: string, id: string) => {
      const c = contractors.get(id);
      return c && c.accountId === accountId ? c : null;
    }),
  };
}

/** Idempotency stand-in: no key, no memory. */
const idempotency = {
  replay: async () => null,
  run: async (_m: unknown, _a: string, _key: string | undefined, _body: unknown, create: () => Promise<string>) => ({ uuid: await create(), replayed: false }),
} as unknown as Idempotency;

function docOf(accountId: string, over: Partial<DocumentEntity> = {}): DocumentEntity {
  const now = new Date('2026-03-01T10:00:00Z');
  return {
    id: '5b6d2f10-8c1e-4f7a-9d3b-2e4f6a8c0d03',
    accountId,
    name: 'Счёт № 15',
    type: 'Счёт',
    status: DocumentStatus.Draft,
    renderState: 'rendered',
    renderError: null,
    revision: 1,
    templateId: TEMPLATE,
    sourceFilename: null,
    contractorId: CONTRACTOR,
    contractorCopy: null,
    masks: {},
    sum: 0,
    filename: 'ab12cd34ef.pdf',
    contentType: 'application/pdf',
    storageKey: `${accountId}/ab12cd34ef.pdf`,
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

const dto = (over: Partial<ConstructorDto> = {}): ConstructorDto => ({
  type: 'Счёт',
  name: 'Счёт № 15',
  contractor: CONTRACTOR,
  template: TEMPLATE,
  masks: { number: '15', amount: '1500.50' },
  ...over,
});

describe(DocumentsService.name, () => {
  let docs: ReturnType<typeof fakeDocuments>;
  let replicas: ReturnType<typeof fakeReplicas>;
  /** The account's template rows the constructor's read finds. */
  let templates: Map<string, Template>;
  let inputs: { find: jest.Mock };
  let storage: { get: jest.Mock; remove: jest.Mock };
  let fake: ReturnType<typeof fakeCommands>;
  let sut: DocumentsService;

  /** The service over this test's fakes (`handoff`: a render queue of this replica's own, else none). */
  const service = (handoff?: RenderHandoff, idem = idempotency) =>
    new DocumentsService(
      { DOWNLOAD_WAIT_MS: 50, REPLICA_WAIT_MS: 0 } as DocumentsConfig,
      storage as unknown as ObjectStorage,
      docs as unknown as DocumentsRepository,
      replicas as unknown as ReplicasRepository,
      inputs as unknown as ConstructorInputRepository,
      fake.commands,
      idem,
      { assertUsable: async () => undefined } as unknown as TemplateFileCheck,
      handoff,
    );

  beforeEach(() => {
    docs = fakeDocuments();
    replicas = fakeReplicas();
    replicas.contractors.set(CONTRACTOR, { id: CONTRACTOR, accountId: acc.accountId, name: 'ООО Ромашка', inn: '7707083893', address: 'Москва', deleted: false } as ContractorReplica);
    templates = new Map([[TEMPLATE, { id: TEMPLATE, accountId: acc.accountId, kind: 'html', masks: MASKS, font: 'Arial', filename: 'f0e1d2c3b4.html' } as Template]]);
    // The constructor's one read: the replica and the template, each only of the account asked for.
    inputs = {
      find: jest.fn(async (accountId: string, contractorId: string, templateId: string | null) => {
        const c = replicas.contractors.get(contractorId);
        const t = templateId ? templates.get(templateId) : undefined;
        return { contractor: c?.accountId === accountId ? c : null, template: t?.accountId === accountId ? t : null, upload: null };
      }),
    };
    storage = {
      get: jest.fn(async () => ({ stream: Readable.from([Buffer.from('%PDF')]), size: 4, contentType: 'application/pdf' })),
      remove: jest.fn(async () => undefined),
    };
    docs.lockTemplate.mockImplementation(async (_m: unknown, accountId: string, id: string) => templates.get(id)?.accountId === accountId);
    fake = fakeCommands(docs.manager as never);
    sut = service();
  });

  describe('construct', () => {
    it('400s masks that do not fit the template, naming the mask, before anything is stored', async () => {
      const err = await sut.construct(acc, dto({ masks: { amount: 'много' } })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationFailedError);
      expect(Object.keys((err as ValidationFailedError).errors ?? {}).sort()).toEqual(['masks.amount', 'masks.number']);
      expect(docs.insert).not.toHaveBeenCalled();
      expect(fake.emitted).toEqual([]);
    });

    it('400s a request with both template and filename, or neither, before looking anything up', async () => {
      for (const body of [dto({ filename: 'a1b2c3d4e5.html' }), dto({ template: undefined })]) {
        const err = await sut.construct(acc, body).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationFailedError);
        expect((err as ValidationFailedError).errors).toHaveProperty('template');
      }
      expect(inputs.find).not.toHaveBeenCalled();
      expect(docs.insert).not.toHaveBeenCalled();
    });

    it('404s the template when a delete took it between the read and the insert (the insert writes nothing), with no event', async () => {
      docs.manager.query.mockResolvedValueOnce([]);
      await expect(sut.construct(acc, dto())).rejects.toThrow(NotFoundError);
      expect(docs.insert).toHaveBeenCalledWith(acc.accountId, expect.objectContaining({ templateId: TEMPLATE }), expect.any(Date), TEMPLATE);
      expect(docs.rows.size).toBe(0);
      expect(fake.emitted).toEqual([]);
    });

    it("404s another account's template and an upload the account does not have, storing nothing", async () => {
      templates.get(TEMPLATE)!.accountId = other.accountId;
      await expect(sut.construct(acc, dto())).rejects.toThrow(/template/);
      await expect(sut.construct(acc, dto({ template: undefined, filename: 'a1b2c3d4e5.html' }))).rejects.toThrow(/upload a1b2c3d4e5.html/);
      expect(inputs.find).toHaveBeenLastCalledWith(acc.accountId, CONTRACTOR, null, 'a1b2c3d4e5.html');
      expect(docs.insert).not.toHaveBeenCalled();
    });

    it("404s another account's contractor, and a deleted one", async () => {
      await expect(sut.construct(other, dto())).rejects.toBeInstanceOf(NotFoundError);
      replicas.contractors.get(CONTRACTOR)!.deleted = true;
      await expect(sut.construct(acc, dto())).rejects.toBeInstanceOf(NotFoundError);
      expect(docs.insert).not.toHaveBeenCalled();
      expect(fake.emitted).toEqual([]);
    });

    it("stores a built-in invoice's sum as its render prints it: without vatRate, the base rate of its date on top", async () => {
      const INVOICE = '61d0fed1-e842-42ba-b2cc-b9423a2a02fa';
      const lines = [{ title: 'Разработка', measure: 'шт', quantity: 1, price: 10_000 }];
      const made = async (masks: Record<string, unknown>) => docs.rows.get((await sut.construct(acc, dto({ template: INVOICE, masks: { number: '1', lines, ...masks } }))).uuid)!;
      // 2026: 22 % on top of 100.00 ₽, as the PDF's total and its payment QR say.
      expect((await made({ date: '2026-03-01' })).sum).toBe(12_200);
      expect((await made({ date: '2024-12-01' })).sum).toBe(12_000);
      expect((await made({ date: '2026-03-01', vatRate: 'none' })).sum).toBe(10_000);
      expect((await made({ date: '2026-03-01', vatRate: 22, vatMode: 'included' })).sum).toBe(10_000);
      const printed = await buildTemplateData('invoice', { masks: { number: '1', lines, date: '2026-03-01' }, contractor: null, organization: null, sum: 0, now: new Date() });
      expect((printed as { totals: { total: number } }).totals.total).toBe(12_200);
    });

    it("400s a built-in's sum that is not what it prints, naming sum, and takes the one that is", async () => {
      const INVOICE = '61d0fed1-e842-42ba-b2cc-b9423a2a02fa';
      const CONTRACT = 'a103cc3d-43c3-46c1-804c-72bd5a5e68c5';
      const lines = [{ title: 'Разработка', measure: 'шт', quantity: 1, price: 10_000 }];
      const invoice = (sum: number) => sut.construct(acc, dto({ template: INVOICE, sum, masks: { number: '1', date: '2026-03-01', lines } }));
      // The invoice prints 122.00 (22 % on top): a sum of 100 was stored beside it.
      const wrong = await invoice(100).catch((e: unknown) => e);
      expect(wrong).toMatchObject({ status: 400, errors: { sum: [expect.stringContaining('122')] } });
      expect(docs.insert).not.toHaveBeenCalled();
      expect(docs.rows.get((await invoice(122)).uuid)!.sum).toBe(12_200);
      // A contract prints its sum mask (kopecks): 1.00 with a sum of 1500.
      const contract = await sut.construct(acc, dto({ template: CONTRACT, sum: 1500, masks: { number: '7', subject: 'Работы', sum: 100 } })).catch((e: unknown) => e);
      expect(contract).toMatchObject({ status: 400, errors: { sum: [expect.any(String)] } });
    });

    it("stores a built-in contract's sum from its sum mask, as it prints it (it was 0 in the list and every event)", async () => {
      const CONTRACT = 'a103cc3d-43c3-46c1-804c-72bd5a5e68c5';
      const made = await sut.construct(acc, dto({ template: CONTRACT, masks: { number: '7', subject: 'Разработка сайта', sum: '50000' } }));
      expect(docs.rows.get(made.uuid)!.sum).toBe(5_000_000);
    });

    it('takes a built-in template by its uuid in upper case, stored in lower case', async () => {
      const made = await sut.construct(
        acc,
        plainToInstance(ConstructorDto, { ...dto({}), template: 'A103CC3D-43C3-46C1-804C-72BD5A5E68C5', masks: { number: '8', subject: 'Поддержка', sum: 1000 } }),
      );
      expect(docs.rows.get(made.uuid)).toMatchObject({ templateId: 'a103cc3d-43c3-46c1-804c-72bd5a5e68c5', sum: 1000 });
    });

    it('stores a pending draft with the checked masks and asks for its rendering', async () => {
      const { uuid } = await sut.construct(acc, dto({ sum: 1500.5 }));
      expect(docs.rows.get(uuid)).toMatchObject({
        accountId: acc.accountId,
        status: DocumentStatus.Draft,
        renderState: 'pending',
        revision: 1,
        masks: { number: '15', amount: 150050 },
        sum: 150050,
        contractorCopy: { name: 'ООО Ромашка', inn: '7707083893', address: 'Москва' },
      });
      expect(fake.emitted.map((e) => [e.type, e.aggregateId, e.accountId])).toEqual([
        ['document.created', uuid, acc.accountId],
        ['render.requested', uuid, acc.accountId],
      ]);
      expect(fake.emitted[1]!.data).toEqual({ documentId: uuid, revision: 1 });
    });
  });

  describe('construct on a replica that renders', () => {
    /** This replica's queue: places reserved, requests handed over, places given back. */
    const local = () => {
      const q = { reserved: 0, cancelled: 0, handed: [] as { documentId: string; revision: number }[], full: false };
      const handoff = new RenderHandoff();
      handoff.attach({
        reserve: () => {
          if (q.full) return null;
          q.reserved++;
          return { fill: (job) => q.handed.push({ documentId: job.documentId, revision: job.revision }), cancel: () => q.cancelled++ };
        },
      });
      return { q, handoff };
    };
    const withHandoff = (handoff: RenderHandoff, idem = idempotency) => service(handoff, idem);

    it('hands the render request to its own queue after the commit, without a render.requested event', async () => {
      const { q, handoff } = local();
      const { uuid } = await withHandoff(handoff).construct(acc, dto());
      expect(docs.rows.get(uuid)).toMatchObject({ renderState: 'pending', revision: 1 });
      expect(fake.emitted.map((e) => e.type)).toEqual(['document.created']);
      expect(q.handed).toEqual([{ documentId: uuid, revision: 1 }]);
    });

    it('asks through the bus when its queue is full', async () => {
      const { q, handoff } = local();
      q.full = true;
      const { uuid } = await withHandoff(handoff).construct(acc, dto());
      expect(fake.emitted.map((e) => [e.type, e.aggregateId])).toEqual([
        ['document.created', uuid],
        ['render.requested', uuid],
      ]);
      expect(q.handed).toEqual([]);
    });

    it('gives the place back when the transaction fails, and on a replayed Idempotency-Key', async () => {
      const { q, handoff } = local();
      docs.manager.query.mockRejectedValueOnce(new Error('connection lost'));
      await expect(withHandoff(handoff).construct(acc, dto())).rejects.toThrow('connection lost');
      const replay = { replay: async () => null, run: async () => ({ uuid: 'earlier', replayed: true }) } as unknown as Idempotency;
      expect(await withHandoff(handoff, replay).construct(acc, dto(), 'key-1')).toEqual({ uuid: 'earlier', replayed: true });
      expect(q).toMatchObject({ reserved: 2, cancelled: 2, handed: [] });
      expect(fake.emitted).toEqual([]);
    });

    it('hands a render asked again of a failed document to its own queue, at the new revision', async () => {
      const { q, handoff } = local();
      const doc = docOf(acc.accountId, { renderState: 'failed', renderError: 'boom', revision: 2 });
      docs.rows.set(doc.id, doc);
      await withHandoff(handoff).rerender(acc, doc.id);
      expect(docs.rows.get(doc.id)).toMatchObject({ renderState: 'pending', revision: 3 });
      expect(fake.emitted).toEqual([]);
      expect(q.handed).toEqual([{ documentId: doc.id, revision: 3 }]);
    });
  });

  describe('setStatus', () => {
    it('changes the status and announces it', async () => {
      const doc = docOf(acc.accountId);
      docs.rows.set(doc.id, doc);
      await sut.setStatus(acc, doc.id, DocumentStatus.Sent);
      expect(docs.rows.get(doc.id)!.status).toBe(DocumentStatus.Sent);
      expect(fake.emitted).toEqual([expect.objectContaining({ type: 'document.status-changed', aggregateId: doc.id, data: expect.objectContaining({ status: DocumentStatus.Sent }) })]);
    });

    it('does nothing, and emits nothing, when the status is already the one asked for', async () => {
      const doc = docOf(acc.accountId, { status: DocumentStatus.Signed });
      docs.rows.set(doc.id, doc);
      await sut.setStatus(acc, doc.id, DocumentStatus.Signed);
      expect(docs.update).not.toHaveBeenCalled();
      expect(fake.emitted).toEqual([]);
    });

    it("404s another account's document and leaves it as it was", async () => {
      const doc = docOf(other.accountId);
      docs.rows.set(doc.id, doc);
      await expect(sut.setStatus(acc, doc.id, DocumentStatus.Paid)).rejects.toBeInstanceOf(NotFoundError);
      expect(doc.status).toBe(DocumentStatus.Draft);
      expect(fake.emitted).toEqual([]);
    });
  });

  describe('rerender', () => {
    it('queues a failed document again under a new revision, pending with no error', async () => {
      const doc = docOf(acc.accountId, { renderState: 'failed', renderError: 'object storage unavailable', revision: 2, storageKey: null, filename: null });
      docs.rows.set(doc.id, doc);
      await sut.rerender(acc, doc.id);
      expect(docs.rows.get(doc.id)).toMatchObject({ renderState: 'pending', renderError: null, revision: 3 });
      expect(fake.emitted).toEqual([expect.objectContaining({ type: 'render.requested', aggregateId: doc.id, data: { documentId: doc.id, revision: 3 } })]);
    });

    it('409s a document that is rendered or still pending, and changes nothing', async () => {
      for (const renderState of ['rendered', 'pending'] as const) {
        const doc = docOf(acc.accountId, { renderState });
        docs.rows.set(doc.id, doc);
        await expect(sut.rerender(acc, doc.id)).rejects.toMatchObject({ status: 409, code: 'DOCUMENT_NOT_FAILED' });
        expect(doc).toMatchObject({ renderState, revision: 1 });
      }
      expect(fake.emitted).toEqual([]);
    });

    it('409s TEMPLATE_DELETED for a failed document whose account template is gone, instead of a render that must fail again', async () => {
      const doc = docOf(acc.accountId, { renderState: 'failed', renderError: 'the template was deleted before the document was rendered', storageKey: null, filename: null });
      docs.rows.set(doc.id, doc);
      templates.delete(TEMPLATE);
      await expect(sut.rerender(acc, doc.id)).rejects.toMatchObject({ status: 409, code: 'TEMPLATE_DELETED' });
      expect(doc).toMatchObject({ renderState: 'failed', revision: 1 });
      expect(fake.emitted).toEqual([]);
    });

    it('renders again a failed document made from a built-in template or an upload (no template row to check)', async () => {
      const builtin = docOf(acc.accountId, { id: '6c7e3a21-9d2f-4a8b-8e4c-3f5a7b9d1e04', renderState: 'failed', templateId: BUILTIN_TEMPLATES[0]!.uuid, storageKey: null });
      const fromUpload = docOf(acc.accountId, { id: '7d8f4b32-ae30-4b9c-9f5d-4a6b8cae2f05', renderState: 'failed', templateId: null, sourceFilename: 'a1b2c3d4e5.html', storageKey: null });
      for (const doc of [builtin, fromUpload]) {
        docs.rows.set(doc.id, doc);
        await sut.rerender(acc, doc.id);
        expect(doc).toMatchObject({ renderState: 'pending', revision: 2 });
      }
      expect(docs.lockTemplate).not.toHaveBeenCalled();
    });

    it("404s another account's failed document", async () => {
      const doc = docOf(other.accountId, { renderState: 'failed' });
      docs.rows.set(doc.id, doc);
      await expect(sut.rerender(acc, doc.id)).rejects.toBeInstanceOf(NotFoundError);
      expect(doc.renderState).toBe('failed');
      expect(fake.emitted).toEqual([]);
    });
  });

  describe('remove', () => {
    it('deletes the row with document.deleted, then its file', async () => {
      const doc = docOf(acc.accountId);
      docs.rows.set(doc.id, doc);
      await sut.remove(acc, doc.id);
      expect(docs.rows.has(doc.id)).toBe(false);
      expect(fake.emitted).toEqual([expect.objectContaining({ type: 'document.deleted', aggregateId: doc.id })]);
      expect(storage.remove).toHaveBeenCalledWith('documents', doc.storageKey);
    });

    it("404s another account's document and keeps it and its file", async () => {
      const doc = docOf(other.accountId);
      docs.rows.set(doc.id, doc);
      await expect(sut.remove(acc, doc.id)).rejects.toBeInstanceOf(NotFoundError);
      expect(docs.rows.has(doc.id)).toBe(true);
      expect(storage.remove).not.toHaveBeenCalled();
    });

    it('still answers OK when the storage cannot remove the file (the row is gone)', async () => {
      const doc = docOf(acc.accountId);
      docs.rows.set(doc.id, doc);
      storage.remove.mockRejectedValue(new Error('storage down'));
      await expect(sut.remove(acc, doc.id)).resolves.toBeUndefined();
      expect(docs.rows.has(doc.id)).toBe(false);
    });
  });

  describe('open', () => {
    it('streams a rendered document', async () => {
      const doc = docOf(acc.accountId);
      docs.rows.set(doc.id, doc);
      const { file } = await sut.open(acc, doc.id);
      expect(storage.get).toHaveBeenCalledWith('documents', doc.storageKey);
      expect(file.size).toBe(4);
    });

    it('waits for a document still rendering, then answers 409 RENDER_PENDING with Retry-After', async () => {
      const doc = docOf(acc.accountId, { renderState: 'pending', filename: null, storageKey: null });
      docs.rows.set(doc.id, doc);
      const err = await sut.open(acc, doc.id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 409, code: 'RENDER_PENDING', headers: { 'Retry-After': '2' } });
      expect(docs.find.mock.calls.length).toBeGreaterThan(1);
      expect(storage.get).not.toHaveBeenCalled();
    });

    it('answers the file when the render finishes during the wait', async () => {
      const doc = docOf(acc.accountId, { renderState: 'pending' });
      docs.rows.set(doc.id, doc);
      docs.find.mockImplementationOnce(async () => ({ ...doc })).mockImplementationOnce(async () => ({ ...doc, renderState: 'rendered' }));
      await expect(sut.open(acc, doc.id)).resolves.toMatchObject({ doc: { renderState: 'rendered' } });
    });

    it('404s a document deleted while the download waited for its render (not 409 RENDER_PENDING)', async () => {
      const doc = docOf(acc.accountId, { renderState: 'pending', filename: null, storageKey: null });
      docs.rows.set(doc.id, doc);
      docs.find.mockImplementationOnce(async () => ({ ...doc })).mockImplementationOnce(async () => null);
      const err = await sut.open(acc, doc.id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect(storage.get).not.toHaveBeenCalled();
    });

    it('answers 409 RENDER_FAILED with the reason for a document that failed', async () => {
      const doc = docOf(acc.accountId, { renderState: 'failed', renderError: 'the template file is gone', storageKey: null });
      docs.rows.set(doc.id, doc);
      const err = await sut.open(acc, doc.id).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 409, code: 'RENDER_FAILED' });
      expect((err as Error).message).toContain('the template file is gone');
    });

    it("404s another account's document", async () => {
      const doc = docOf(other.accountId);
      docs.rows.set(doc.id, doc);
      await expect(sut.open(acc, doc.id)).rejects.toBeInstanceOf(NotFoundError);
      expect(storage.get).not.toHaveBeenCalled();
    });
  });

  it("lists a contractor's documents only when the contractor is the account's", async () => {
    await expect(sut.listForContractor(other, CONTRACTOR, {})).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.listForContractor(acc, CONTRACTOR, {})).resolves.toEqual([]);
    expect(docs.list).toHaveBeenCalledWith(acc.accountId, expect.objectContaining({ contractorId: CONTRACTOR }), expect.anything());
  });
});
