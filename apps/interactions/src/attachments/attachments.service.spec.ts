import type { AccountContext } from '@papka/auth';
import type { InteractionDocumentSnapshot, InteractionFileSnapshot, InteractionSnapshot } from '@papka/contracts';
import { NotFoundError } from '@papka/platform';
import type { ObjectStorage } from '@papka/storage';
import { fakeCommands } from '@papka/testing';
import type { InteractionsConfig } from '../config';
import type { ReplicasRepository } from '../replicas/replicas.repository';
import type { AttachmentsRepository, NewFile } from './attachments.repository';
import { AttachmentsService } from './attachments.service';

const acc = { accountId: 'acc-1', userId: 'u' } as AccountContext;
const other = { accountId: 'acc-2', userId: 'u' } as AccountContext;
const ID = '11111111-1111-4111-8111-111111111111';
const DOC = '66666666-6666-4666-8666-666666666666';
const document: InteractionDocumentSnapshot = { id: DOC, name: 'Счёт', type: 'invoice', status: 1, filename: 'a.pdf', sum: 0, createdAt: '2026-01-01T00:00:00.000Z' };

/** One interaction of `acc` with its attachments, as the account-filtered SQL would see it. */
function fakeRepo() {
  const documents: InteractionDocumentSnapshot[] = [];
  const files: InteractionFileSnapshot[] = [];
  const mine = (a: string) => a === acc.accountId;
  const snapshot = (): InteractionSnapshot => ({
    uuid: ID,
    contractorId: 'c',
    contractor: { name: 'ООО Ромашка', inn: null, address: null },
    name: 'Сделка',
    description: '',
    status: 1,
    sum: 0,
    paidSum: 0,
    balance: 0,
    documents: [...documents],
    paymentsCount: 0,
    files: files.map((f) => ({ ...f })),
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  return {
    documents,
    files,
    lock: jest.fn(async (_m: unknown, a: string, id: string) => (mine(a) && id === ID ? { contractorId: 'c', status: 1 } : null)),
    snapshot: jest.fn(async () => snapshot()),
    attachDocument: jest.fn(async (_m: unknown, _a: string, _id: string, documentId: string) => {
      if (documents.some((d) => d.id === documentId)) return false;
      documents.push({ ...document, id: documentId });
      return true;
    }),
    detachDocument: jest.fn(async (_m: unknown, _a: string, _id: string, documentId: string) => {
      const i = documents.findIndex((d) => d.id === documentId);
      return i >= 0 && documents.splice(i, 1).length > 0;
    }),
    attachFile: jest.fn(async (_m: unknown, _a: string, _id: string, f: NewFile) => {
      const same = files.find((x) => x.filename === f.filename);
      if (!same) {
        files.push({ uuid: f.id, filename: f.filename, name: f.name, contentType: f.contentType, size: f.size, createdAt: '2026-01-02T00:00:00.000Z' });
        return { id: f.id, outcome: 'attached' as const };
      }
      if (same.name === f.name) return { id: same.uuid, outcome: 'unchanged' as const };
      same.name = f.name;
      return { id: same.uuid, outcome: 'renamed' as const };
    }),
    detachFile: jest.fn(async (_m: unknown, _a: string, _id: string, fileId: string) => {
      const i = files.findIndex((f) => f.uuid === fileId);
      return i >= 0 && files.splice(i, 1).length > 0;
    }),
  };
}

describe(AttachmentsService.name, () => {
  let repo: ReturnType<typeof fakeRepo>;
  let replicas: { documentLive: jest.Mock; shareLiveDocument: jest.Mock };
  let storage: { stat: jest.Mock };
  let fake: ReturnType<typeof fakeCommands>;
  let sut: AttachmentsService;

  beforeEach(() => {
    repo = fakeRepo();
    replicas = { documentLive: jest.fn(async () => true), shareLiveDocument: jest.fn(async () => true) };
    storage = { stat: jest.fn(async () => ({ size: 10, contentType: 'application/pdf' })) };
    fake = fakeCommands();
    sut = new AttachmentsService(
      repo as unknown as AttachmentsRepository,
      replicas as unknown as ReplicasRepository,
      fake.commands,
      storage as unknown as ObjectStorage,
      { REPLICA_WAIT_MS: 0 } as InteractionsConfig,
    );
  });

  describe('documents', () => {
    it('attaches with interaction.document.attached; attaching again is a no-op', async () => {
      await sut.attachDocument(acc, ID, DOC);
      await sut.attachDocument(acc, ID, DOC);
      expect(fake.emitted).toEqual([expect.objectContaining({ type: 'interaction.document.attached', data: expect.objectContaining({ document: expect.objectContaining({ id: DOC }) }) })]);
    });

    it('404s a document that is not live in the read model under its lock, attaching nothing', async () => {
      replicas.shareLiveDocument.mockResolvedValue(false);
      await expect(sut.attachDocument(acc, ID, DOC)).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'document not found' });
      expect(replicas.shareLiveDocument).toHaveBeenCalledWith(fake.manager, acc.accountId, DOC);
      expect(repo.attachDocument).not.toHaveBeenCalled();
      expect(fake.emitted).toEqual([]);
    });

    it("detaches with reason user; detaching one that is not attached is a 404", async () => {
      await sut.attachDocument(acc, ID, DOC);
      await sut.detachDocument(acc, ID, DOC);
      expect(fake.emitted[1]).toMatchObject({ type: 'interaction.document.detached', data: { reason: 'user', document: { id: DOC }, documents: [] } });
      await expect(sut.detachDocument(acc, ID, DOC)).rejects.toMatchObject({ message: 'document not found' });
      expect(fake.emitted).toHaveLength(2);
    });
  });

  describe('files', () => {
    const dto = { filename: 'ab12.pdf', name: 'Скан' };

    it('404s an upload not in the account storage, before any command', async () => {
      storage.stat.mockResolvedValue(null);
      await expect(sut.attachFile(acc, ID, dto)).rejects.toMatchObject({ message: 'file not found' });
      expect(storage.stat).toHaveBeenCalledWith('uploads', `${acc.accountId}/ab12.pdf`);
      expect(repo.lock).not.toHaveBeenCalled();
    });

    it('attaches once (file.attached), renames on a new name (interaction.updated), and keeps its id', async () => {
      const id = await sut.attachFile(acc, ID, dto);
      expect(await sut.attachFile(acc, ID, dto)).toBe(id);
      expect(await sut.attachFile(acc, ID, { ...dto, name: 'Скан 2' })).toBe(id);
      expect(fake.emitted.map((e) => e.type)).toEqual(['interaction.file.attached', 'interaction.updated']);
    });

    it('detaches by attachment id or by filename; an absent one is a 404 emitting nothing', async () => {
      const id = await sut.attachFile(acc, ID, dto);
      await sut.detachFile(acc, ID, 'ab12.pdf');
      expect(repo.detachFile).toHaveBeenCalledWith(fake.manager, acc.accountId, ID, id);
      await expect(sut.detachFile(acc, ID, id)).rejects.toBeInstanceOf(NotFoundError);
      expect(fake.emitted.map((e) => e.type)).toEqual(['interaction.file.attached', 'interaction.file.detached']);
    });
  });

  it("404s another account's interaction on every change and emits nothing", async () => {
    await sut.attachDocument(acc, ID, DOC);
    const id = await sut.attachFile(acc, ID, { filename: 'a.pdf', name: 'a' });
    for (const call of [
      () => sut.attachDocument(other, ID, DOC),
      () => sut.detachDocument(other, ID, DOC),
      () => sut.attachFile(other, ID, { filename: 'b.pdf', name: 'b' }),
      () => sut.detachFile(other, ID, id),
    ]) {
      await expect(call()).rejects.toMatchObject({ message: 'interaction not found' });
    }
    expect(repo.documents).toHaveLength(1);
    expect(repo.files).toHaveLength(1);
    expect(fake.emitted).toHaveLength(2);
  });
});
