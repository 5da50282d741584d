import type { AccountContext } from '@papka/auth';
import type { CreateTemplateDto } from '@papka/contracts';
import { AppError, NotFoundError, ValidationFailedError } from '@papka/platform';
import { fakeCommands } from '@papka/testing';
import type { Upload } from '../uploads/upload.entity';
import type { UploadsService } from '../uploads/uploads.service';
import { BUILTIN_TEMPLATES } from './builtin/builtin';
import type { Template } from './template.entity';
import type { TemplatesRepository } from './templates.repository';
import { buildDocx, paragraph } from '../docx/ooxml';
import { resolveTemplate, TemplatesService } from './templates.service';
import { TemplateFileCheck } from './template-file-check';

const acc = { accountId: 'acc-1', userId: 'u' } as AccountContext;
const other = { accountId: 'acc-2', userId: 'v' } as AccountContext;
const OWN = '0e7b1c2d-3f4a-4b5c-8d6e-7f8091a2b304';

/** Repository stand-in: rows of every account, each method seeing only its account's. */
function fakeRepo() {
  const rows = new Map<string, Template>();
  const own = (accountId: string, id: string) => {
    const row = rows.get(id);
    return row && row.accountId === accountId ? row : null;
  };
  /** Documents still pending per template id, as the document table would count them. */
  const pending = new Map<string, number>();
  return {
    rows,
    pending,
    // Newest first, id breaking ties, then the window (all of them without one).
    list: jest.fn(async (accountId: string, w?: { take: number; skip: number }) => {
      const mine = [...rows.values()]
        .filter((t) => t.accountId === accountId)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      return w ? mine.slice(w.skip, w.skip + Math.max(0, w.take)) : mine;
    }),
    lock: jest.fn(async (_m: unknown, accountId: string, id: string) => Boolean(own(accountId, id))),
    pendingDocuments: jest.fn(async (_m: unknown, _accountId: string, id: string) => pending.get(id) ?? 0),
    insert: jest.fn(async (_m: unknown, accountId: string, row: Omit<Template, 'accountId' | 'createdAt'>) => {
      rows.set(row.id, { ...row, accountId, createdAt: new Date('2026-03-01T10:00:00Z') });
    }),
    delete: jest.fn(async (_m: unknown, accountId: string, id: string) => Boolean(own(accountId, id)) && rows.delete(id)),
  };
}

const upload = (kind: Upload['kind'], filename = `a1b2c3d4e5.${kind}`) => ({ filename, kind, size: 100, storageKey: `acc-1/${filename}` }) as Upload;
const dto = (over: Partial<CreateTemplateDto> = {}): CreateTemplateDto => ({
  name: 'Мой счёт',
  filename: 'a1b2c3d4e5.html',
  masks: [{ id: 'number', name: 'Номер', type: 'string' }],
  ...over,
});

describe(TemplatesService.name, () => {
  let repo: ReturnType<typeof fakeRepo>;
  let uploads: { find: jest.Mock; read: jest.Mock };
  let sut: TemplatesService;

  beforeEach(() => {
    repo = fakeRepo();
    uploads = { find: jest.fn(async () => upload('html')), read: jest.fn(async () => Buffer.from('<p>Счёт № {{number}}</p>')) };
    sut = new TemplatesService(
      repo as unknown as TemplatesRepository,
      uploads as unknown as UploadsService,
      fakeCommands().commands,
      new TemplateFileCheck(uploads as unknown as UploadsService),
    );
  });

  it('lists the built-in templates first, then the account’s own', async () => {
    repo.rows.set(OWN, { id: OWN, accountId: acc.accountId, name: 'Мой', filename: 'x.html', kind: 'html', masks: [], font: 'Arial', createdAt: new Date('2026-03-01T10:00:00Z') });
    const list = await sut.list(acc);
    expect(list.map((t) => t.builtin)).toEqual([...BUILTIN_TEMPLATES.map(() => true), false]);
    expect(list.at(-1)).toMatchObject({ uuid: OWN, createdAt: '2026-03-01T10:00:00.000Z' });
    expect((await sut.list(other)).every((t) => t.builtin)).toBe(true);
  });

  describe('list paging (page/size or limit/offset over the built-ins and the account’s own together)', () => {
    const B = BUILTIN_TEMPLATES.length;
    const own = (n: number) =>
      Array.from({ length: n }, (_, i) => {
        const id = `0e7b1c2d-3f4a-4b5c-8d6e-7f8091a2b3${String(10 + i)}`;
        repo.rows.set(id, { id, accountId: acc.accountId, name: `Мой ${i}`, filename: 'x.html', kind: 'html', masks: [], font: 'Arial', createdAt: new Date(Date.UTC(2026, 2, 1 + i)) });
        return id;
      });

    it('pages through every template exactly once, built-ins first, then the newest own one', async () => {
      const ids = own(5).reverse(); // newest first
      const expected = [...BUILTIN_TEMPLATES.map((b) => b.uuid), ...ids];
      const seen: string[] = [];
      for (let page = 1; page <= expected.length + 1; page++) seen.push(...(await sut.list(acc, { page, size: 3 })).map((t) => t.uuid));
      expect(seen).toEqual(expected);
      expect((await sut.list(acc, { size: 1, page: 2 })).map((t) => t.uuid)).toEqual([expected[1]]);
      expect((await sut.list(acc, { limit: 2, offset: B - 1 })).map((t) => t.uuid)).toEqual([expected[B - 1], ids[0]]);
      expect((await sut.list(acc, { limit: 2, offset: B + 1 })).map((t) => t.uuid)).toEqual([ids[1], ids[2]]);
    });

    it('answers at most the default page size without paging (it used to answer every template)', async () => {
      own(60);
      expect(await sut.list(acc)).toHaveLength(50);
      expect(await sut.list(acc, { page: 2 })).toHaveLength(B + 60 - 50);
    });
  });

  describe('create', () => {
    it('stores the template for the account, masks optional unless marked required', async () => {
      const id = await sut.create(acc, dto({ font: 'Times New Roman' }));
      expect(repo.rows.get(id)).toMatchObject({
        accountId: acc.accountId,
        kind: 'html',
        font: 'Times New Roman',
        masks: [{ id: 'number', name: 'Номер', type: 'string', required: false }],
      });
    });

    it('400s a mask id declared twice, naming masks, before reading the upload', async () => {
      const masks = [
        { id: 'n', name: 'a', type: 'string' as const },
        { id: 'n', name: 'b', type: 'number' as const },
      ];
      const err = await sut.create(acc, dto({ masks })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationFailedError);
      expect((err as ValidationFailedError).errors).toHaveProperty('masks');
      expect(uploads.find).not.toHaveBeenCalled();
      expect(repo.insert).not.toHaveBeenCalled();
    });

    it('400s an upload that is not HTML or DOCX', async () => {
      uploads.find.mockResolvedValue(upload('pdf'));
      const err = await sut.create(acc, dto({ filename: 'a1b2c3d4e5.pdf' })).catch((e: unknown) => e);
      expect((err as ValidationFailedError).errors).toHaveProperty('filename');
      expect(repo.insert).not.toHaveBeenCalled();
    });

    it('400s a DOCX template whose tags do not parse, or that is no DOCX, instead of failing every document later', async () => {
      uploads.find.mockResolvedValue(upload('docx'));
      uploads.read.mockResolvedValue(buildDocx({ body: paragraph('Договор № {{number') }));
      const bad = await sut.create(acc, dto({ filename: 'a1b2c3d4e5.docx' })).catch((e: unknown) => e);
      expect((bad as ValidationFailedError).errors?.filename?.[0]).toMatch(/does not compile/);
      // (Another upload each time: an upload's content never changes, and its verdict is kept.)
      uploads.find.mockResolvedValue(upload('docx', 'b1b2c3d4e5.docx'));
      uploads.read.mockResolvedValue(Buffer.from('PK not a zip'));
      expect(((await sut.create(acc, dto({ filename: 'b1b2c3d4e5.docx' })).catch((e: unknown) => e)) as ValidationFailedError).errors).toHaveProperty('filename');
      expect(repo.insert).not.toHaveBeenCalled();
      uploads.find.mockResolvedValue(upload('docx', 'c1b2c3d4e5.docx'));
      uploads.read.mockResolvedValue(buildDocx({ body: paragraph('Договор № {{number}}') }));
      expect(await sut.create(acc, dto({ filename: 'c1b2c3d4e5.docx' }))).toEqual(expect.any(String));
    });

    it('400s an HTML template that does not compile, instead of failing at render time', async () => {
      uploads.read.mockResolvedValue(Buffer.from('<p>{{#if number}}без конца</p>'));
      const err = await sut.create(acc, dto()).catch((e: unknown) => e);
      expect((err as ValidationFailedError).errors?.filename?.[0]).toMatch(/does not compile/);
      expect(repo.insert).not.toHaveBeenCalled();
    });
  });

  describe('remove', () => {
    it('409s a built-in template', async () => {
      const err = await sut.remove(acc, BUILTIN_TEMPLATES[0]!.uuid).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 409, code: 'BUILTIN_TEMPLATE' });
      expect(repo.delete).not.toHaveBeenCalled();
    });

    it('409s TEMPLATE_IN_USE, naming how many, while documents made from it are pending; deletes it once none are', async () => {
      const id = await sut.create(acc, dto());
      repo.pending.set(id, 3);
      const err = await sut.remove(acc, id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 409, code: 'TEMPLATE_IN_USE' });
      expect((err as Error).message).toContain('3 documents');
      expect(repo.rows.has(id)).toBe(true);
      repo.pending.set(id, 0);
      await sut.remove(acc, id);
      expect(repo.rows.has(id)).toBe(false);
    });

    it("404s another account's template and keeps it", async () => {
      await sut.create(other, dto());
      const [id] = [...repo.rows.keys()];
      await expect(sut.remove(acc, id!)).rejects.toBeInstanceOf(NotFoundError);
      expect(repo.rows.has(id!)).toBe(true);
      await sut.remove(other, id!);
      expect(repo.rows.has(id!)).toBe(false);
    });
  });

  describe(resolveTemplate.name, () => {
    it('gives a built-in whatever the row, and an own template from its row, or 404s without one', async () => {
      const builtin = BUILTIN_TEMPLATES[0]!;
      expect(resolveTemplate(builtin.uuid, null)).toMatchObject({ kind: 'builtin', font: builtin.font });
      const id = await sut.create(acc, dto());
      const row = repo.rows.get(id)!;
      expect(resolveTemplate(id, row)).toMatchObject({ kind: 'html', row: { id }, masks: row.masks });
      expect(() => resolveTemplate(id, null)).toThrow(NotFoundError);
    });
  });
});
