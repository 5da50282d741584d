import { DocumentStatus } from '@papka/contracts';
import { isDatabaseUnavailable } from '@papka/persistence';
import { FileStorageUnavailableError } from '@papka/platform';
import { RenderBrowserUnavailableError, RenderCrashedError } from '@papka/render-pool';
import { StorageUnavailableError, type ObjectStorage } from '@papka/storage';
import { fakeCommands } from '@papka/testing';
import type { DocumentEntity } from '../documents/document.entity';
import type { DocumentsRepository, RenderOutcome } from '../documents/documents.repository';
import type { Upload } from '../uploads/upload.entity';
import type { UploadsService } from '../uploads/uploads.service';
import { DocumentRendererService, failureReason, RenderDependencyUnavailableError, type RenderJob } from './document-renderer.service';
import type { RenderInput, RenderInputRepository } from './render-input.repository';
import type { RenderMetrics } from './render-metrics';
import type { RenderPoolHost } from './render-pool.provider';

const ACCOUNT = 'acc-1';
const DOC = '5b6d2f10-8c1e-4f7a-9d3b-2e4f6a8c0d03';
const TEMPLATE = '0e7b1c2d-3f4a-4b5c-8d6e-7f8091a2b304';
const request = (accountId = ACCOUNT): RenderJob => ({ accountId, documentId: DOC, revision: 2 });
const upload = (filename: string): Upload => ({ filename, kind: 'html', size: 40, storageKey: `${ACCOUNT}/${filename}` }) as Upload;

function pendingDoc(over: Partial<DocumentEntity> = {}): DocumentEntity {
  const now = new Date('2026-03-01T10:00:00Z');
  return {
    id: DOC,
    accountId: ACCOUNT,
    name: 'Письмо',
    type: 'Письмо',
    status: DocumentStatus.Draft,
    renderState: 'pending',
    renderError: null,
    revision: 2,
    templateId: null,
    sourceFilename: 'a1b2c3d4e5.html',
    contractorId: null,
    contractorCopy: null,
    masks: { number: '15' },
    sum: 0,
    filename: null,
    contentType: null,
    storageKey: null,
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

describe(DocumentRendererService.name, () => {
  let doc: DocumentEntity | null;
  /** The account's template row of the document (null: none or deleted). */
  let template: RenderInput['template'];
  /** The document row's version (xmin): bumped by a change made while a render works. */
  let rowVersion: number;
  let documents: { finishRender: jest.Mock; finishRenderIfUnchanged: jest.Mock };
  let inputs: { find: jest.Mock };
  let uploads: { read: jest.Mock };
  let pool: { render: jest.Mock };
  let storage: { ensureBucket: jest.Mock; put: jest.Mock; remove: jest.Mock };
  let fake: ReturnType<typeof fakeCommands>;
  let sut: DocumentRendererService;

  const handle = (lastAttempt = false, accountId = ACCOUNT) => sut.render(request(accountId), lastAttempt);

  beforeEach(() => {
    doc = pendingDoc();
    rowVersion = 1;
    template = null;
    // The one statement a render reads: the document (of that account) and its template's rows.
    inputs = {
      find: jest.fn(async (accountId: string, id: string): Promise<RenderInput | null> => {
        if (!doc || doc.accountId !== accountId || doc.id !== id) return null;
        const filename = template?.filename ?? doc.sourceFilename;
        return {
          doc: { ...doc },
          contractor: null,
          replica: null,
          versions: { row: String(rowVersion), contractor: null },
          organization: null,
          template,
          upload: filename ? upload(filename) : null,
        };
      }),
    };
    // Writes the outcome only while the document still waits for that revision, as the statement does.
    documents = {
      finishRender: jest.fn(async (_m: unknown, accountId: string, id: string, revision: number, o: RenderOutcome) => {
        if (!doc || doc.accountId !== accountId || doc.id !== id || doc.revision !== revision || doc.renderState !== 'pending') return null;
        Object.assign(doc, o);
        return { uuid: doc.id, renderState: doc.renderState, renderError: doc.renderError };
      }),
      // The guarded one-statement outcome: run by the fake commands through `manager.query` below.
      finishRenderIfUnchanged: jest.fn((accountId: string, id: string, revision: number, seen: { row: string }, o: RenderOutcome) => ({
        sql: 'finishRenderIfUnchanged',
        params: [accountId, id, revision, seen, o],
      })),
    };
    // It writes only while the document waits for that revision and its row is as read.
    const manager = {
      query: jest.fn(async (_sql: string, [accountId, id, revision, seen, o]: [string, string, number, { row: string }, RenderOutcome]) => {
        if (!doc || doc.accountId !== accountId || doc.id !== id || doc.revision !== revision || doc.renderState !== 'pending') return [];
        if (String(rowVersion) !== seen.row) return [];
        Object.assign(doc, o);
        return [{ id }];
      }),
    };
    uploads = { read: jest.fn(async () => Buffer.from('<p>Письмо № {{number}}</p>')) };
    pool = { render: jest.fn(async () => Buffer.from('%PDF-1.7')) };
    storage = { ensureBucket: jest.fn(async () => undefined), put: jest.fn(async () => ({ size: 8 })), remove: jest.fn(async () => undefined) };
    fake = fakeCommands(manager as never);
    sut = new DocumentRendererService(
      storage as unknown as ObjectStorage,
      { pool } as unknown as RenderPoolHost,
      documents as unknown as DocumentsRepository,
      inputs as unknown as RenderInputRepository,
      uploads as unknown as UploadsService,
      fake.commands,
      { phase: () => undefined } as unknown as RenderMetrics,
    );
  });

  it('renders the template with the masks, stores the PDF and marks the document rendered', async () => {
    await handle();
    expect(pool.render.mock.calls[0]![0]).toContain('Письмо № 15');
    const [bucket, key] = storage.put.mock.calls[0]!;
    expect(bucket).toBe('documents');
    expect(key).toMatch(new RegExp(`^${ACCOUNT}/${DOC}/[0-9a-f]{10}\\.pdf$`));
    expect(doc).toMatchObject({ renderState: 'rendered', renderError: null, storageKey: key, contentType: 'application/pdf' });
    expect(fake.emitted).toEqual([expect.objectContaining({ type: 'document.rendered', aggregateId: DOC, accountId: ACCOUNT })]);
  });

  it('writes the usual outcome as one guarded statement, its event built from the rows the render read', async () => {
    await handle();
    expect(documents.finishRenderIfUnchanged).toHaveBeenCalledWith(ACCOUNT, DOC, 2, { row: '1', contractor: null }, expect.objectContaining({ renderState: 'rendered' }), expect.any(Date));
    expect(documents.finishRender).not.toHaveBeenCalled();
    const at = documents.finishRenderIfUnchanged.mock.calls[0]![5] as Date;
    expect(fake.emitted[0]!.data).toMatchObject({ uuid: DOC, renderState: 'rendered', storageKey: doc!.storageKey, contractor: null, updatedAt: at.toISOString() });
  });

  it('writes the outcome through a transaction that reads the document again when it changed while rendering', async () => {
    pool.render.mockImplementation(async () => {
      doc!.status = DocumentStatus.Sent; // PATCH of its status meanwhile: the row moved on
      rowVersion++;
      return Buffer.from('%PDF-1.7');
    });
    expect(await handle()).toBe('rendered');
    expect(documents.finishRender).toHaveBeenCalledTimes(1);
    expect(doc!.renderState).toBe('rendered');
    expect(fake.emitted.map((e) => e.type)).toEqual(['document.rendered']);
  });

  it('drops a request for an older revision, a document already done, or one of another account', async () => {
    doc = pendingDoc({ revision: 3 });
    await handle();
    doc = pendingDoc({ renderState: 'rendered' });
    await handle();
    doc = pendingDoc();
    await handle(false, 'acc-2');
    expect(pool.render).not.toHaveBeenCalled();
    expect(documents.finishRender).not.toHaveBeenCalled();
    expect(fake.emitted).toEqual([]);
  });

  it('keeps nothing of a render whose document was superseded while it rendered: no outcome, no event, its file removed', async () => {
    pool.render.mockImplementation(async () => {
      doc!.revision = 3; // POST /render of a newer revision meanwhile
      return Buffer.from('%PDF-1.7');
    });
    expect(await handle()).toBe('skipped');
    expect(doc!.renderState).toBe('pending');
    expect(fake.emitted).toEqual([]);
    expect(storage.remove).toHaveBeenCalledWith('documents', storage.put.mock.calls[0]![1]);
  });

  it('reads and compiles an uploaded template once, however many documents use it', async () => {
    for (let i = 0; i < 3; i++) {
      doc = pendingDoc({ masks: { number: String(i) } });
      await handle();
      expect(pool.render.mock.calls[i]![0]).toContain(`Письмо № ${i}`);
    }
    expect(uploads.read).toHaveBeenCalledTimes(1);
  });

  it('keeps compiled uploads within a budget of template source: large ones push the oldest out', async () => {
    // 5 MiB each: three fit in the 16 MiB budget, a fourth pushes the first out.
    uploads.read.mockImplementation(async (u: { filename: string }) => Buffer.from(`<p>{{number}} ${u.filename}</p>${' '.repeat(5 * 1024 * 1024)}`));
    const names = ['b0000000001.html', 'b0000000002.html', 'b0000000003.html', 'b0000000004.html'];
    for (const name of names) {
      doc = pendingDoc({ sourceFilename: name });
      await handle();
    }
    expect(uploads.read).toHaveBeenCalledTimes(4);
    doc = pendingDoc({ sourceFilename: names[3] });
    await handle();
    expect(uploads.read).toHaveBeenCalledTimes(4);
    doc = pendingDoc({ sourceFilename: names[0] });
    await handle();
    expect(uploads.read).toHaveBeenCalledTimes(5);
  });

  it('fails the document at once, with the reason, when its template does not compile', async () => {
    uploads.read.mockResolvedValue(Buffer.from('<p>{{#if number}}</p>'));
    await handle();
    expect(doc!.renderState).toBe('failed');
    expect(doc!.renderError).toBeTruthy();
    expect(fake.emitted).toEqual([expect.objectContaining({ type: 'document.failed', aggregateId: DOC })]);
    expect(storage.put).not.toHaveBeenCalled();
  });

  it('fails it with a reason PostgreSQL takes when the template error quotes half an emoji (it stayed pending for good)', async () => {
    uploads.read.mockResolvedValue(Buffer.from(`<p>${'😀'.repeat(11)} {{foo bar</p>${'😀'.repeat(11)}`));
    await handle();
    expect(doc!.renderState).toBe('failed');
    expect(doc!.renderError!.isWellFormed()).toBe(true);
    expect(failureReason(new Error(`${'я'.repeat(999)}😀😀`))).toBe(`${'я'.repeat(999)}😀`);
    expect(failureReason(new Error('a\u0000b\ud83d'))).toBe('ab\ufffd');
  });

  it("fails the document when its account's template was deleted before the render", async () => {
    doc = pendingDoc({ templateId: TEMPLATE, sourceFilename: null });
    await handle();
    expect(doc!.renderError).toMatch(/template was deleted/);
    expect(fake.emitted.map((e) => e.type)).toEqual(['document.failed']);
  });

  it("renders an account template from its upload, in the template's font", async () => {
    doc = pendingDoc({ templateId: TEMPLATE, sourceFilename: null });
    template = { filename: 'f0e1d2c3b4.html', font: 'Times New Roman' };
    await handle();
    expect(uploads.read).toHaveBeenCalledWith(expect.objectContaining({ filename: 'f0e1d2c3b4.html' }));
    // Times New Roman is served by the bundled metric-compatible Liberation Serif.
    expect((pool.render.mock.calls[0]![0] as string).includes("font-family: 'Liberation Serif'")).toBe(true);
    expect(doc!.renderState).toBe('rendered');
  });

  it("gives an account template the document's sum in rubles and in kopecks, so the money helpers print it whole", async () => {
    doc = pendingDoc({ sum: 5_000_050 });
    uploads.read.mockResolvedValue(Buffer.from('<p>{{document.sum}} | {{money document.sumKopecks}} | {{words document.sumKopecks}}</p>'));
    await handle();
    // (money groups thousands with a no-break space)
    expect(pool.render.mock.calls[0]![0] as string).toMatch(/<p>50000\.5 \| 50\s000,50 \| Пятьдесят тысяч рублей 50 копеек<\/p>/);
  });

  it('throws a crash so the request is retried, leaving the document pending; the last attempt fails it', async () => {
    pool.render.mockRejectedValue(new Error('Chromium disconnected'));
    await expect(handle()).rejects.toThrow('Chromium disconnected');
    expect(doc!.renderState).toBe('pending');
    expect(fake.emitted).toEqual([]);

    await handle(true);
    expect(doc).toMatchObject({ renderState: 'failed', renderError: 'Chromium disconnected' });
    expect(fake.emitted.map((e) => e.type)).toEqual(['document.failed']);
  });

  it('waits out a storage outage on the PDF put, even on the last attempt: thrown as an outage, the document pending', async () => {
    storage.put.mockRejectedValue(new StorageUnavailableError('object storage unavailable (put documents/x)'));
    for (const last of [false, true]) {
      const err: unknown = await handle(last).then(() => null, (e: unknown) => e);
      // The queue tries again what isDatabaseUnavailable recognises without counting an attempt.
      expect(isDatabaseUnavailable(err)).toBe(true);
      expect(doc!.renderState).toBe('pending');
    }
    expect(documents.finishRender).not.toHaveBeenCalled();
    expect(fake.emitted).toEqual([]);

    storage.put.mockResolvedValue({ size: 8 });
    await handle();
    expect(doc!.renderState).toBe('rendered');
  });

  it('waits out Chromium being down (no browser, its relaunch failing), even on the last attempt: thrown as an outage, the document pending', async () => {
    pool.render.mockRejectedValue(new RenderBrowserUnavailableError('Chromium is unavailable; relaunch pending'));
    for (const last of [false, true]) {
      const err: unknown = await handle(last).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(RenderDependencyUnavailableError);
      expect(isDatabaseUnavailable(err)).toBe(true);
      expect(doc!.renderState).toBe('pending');
    }
    expect(fake.emitted).toEqual([]);

    // A crash while this document rendered is not an outage: the last attempt fails it.
    pool.render.mockRejectedValue(new RenderCrashedError('The page crashed'));
    const crash: unknown = await handle().then(() => null, (e: unknown) => e);
    expect(crash).toBeInstanceOf(RenderCrashedError);
    expect(isDatabaseUnavailable(crash)).toBe(false);
    await handle(true);
    expect(doc).toMatchObject({ renderState: 'failed', renderError: 'The page crashed' });
  });

  it("waits out a storage outage on the uploaded template's read, even on the last attempt", async () => {
    uploads.read.mockRejectedValue(new FileStorageUnavailableError());
    const err: unknown = await handle(true).then(() => null, (e: unknown) => e);
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(doc!.renderState).toBe('pending');
    expect(fake.emitted).toEqual([]);
  });

  it('fails the document, never leaves it pending, when storing the file keeps failing otherwise', async () => {
    storage.put.mockRejectedValue(new Error('AccessDenied'));
    await expect(handle()).rejects.toThrow('AccessDenied');
    expect(doc!.renderState).toBe('pending');
    await handle(true);
    expect(doc).toMatchObject({ renderState: 'failed', renderError: 'AccessDenied' });
    expect(fake.emitted.map((e) => e.type)).toEqual(['document.failed']);
  });
});
