import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DocumentCreated, DocumentRendered, DocumentStatus } from '@papka/contracts';
import { Commands, type OutboxRelay } from '@papka/messaging';
import { createDataSource, runMigrations } from '@papka/persistence';
import { createTestDatabase, dropDatabase } from '@papka/testing';
import { entities } from '../src/app.module';
import { DocumentsRepository, newDocument, snapshotOf, type RenderOutcome } from '../src/documents/documents.repository';
import { migrations } from '../src/migrations';
import { RenderInputRepository } from '../src/rendering/render-input.repository';

/**
 * The two writes of every document, each with its event in one statement through
 * Commands.runOne, on the service's real schema: the constructor's insert (its event the row as
 * stored), and the renderer's outcome (finishRenderIfUnchanged), written only while nothing its
 * event is built from has moved since the render read it.
 */
describe("the constructor's insert and the render outcome, each with its event in one statement (PostgreSQL)", () => {
  const account = `acc-${randomUUID().slice(0, 8)}`;
  let dbUrl: string;
  let ds: DataSource;
  let documents: DocumentsRepository;
  let inputs: RenderInputRepository;
  let commands: Commands;
  const outcome: RenderOutcome = { renderState: 'rendered', renderError: null, filename: 'f.pdf', contentType: 'application/pdf', storageKey: `${account}/f.pdf` };

  const events = async (id: string) =>
    ((await ds.query(`SELECT event_type, payload FROM outbox WHERE key = $1 AND event_type <> 'document.created' ORDER BY seq`, [id])) as { event_type: string; payload: { sequence: number; data: Record<string, unknown> } }[]).map(
      (r) => ({ type: r.event_type, sequence: r.payload.sequence, data: r.payload.data }),
    );
  const state = async (id: string) => ((await ds.query(`SELECT render_state, status FROM document WHERE id = $1`, [id])) as { render_state: string; status: number }[])[0];

  async function pendingDocument(): Promise<{ id: string; contractorId: string }> {
    const id = randomUUID();
    const contractorId = randomUUID();
    await ds.query(`INSERT INTO contractor_replica (id, account_id, name, inn, address, snapshot, deleted, version) VALUES ($1, $2, 'ООО Ромашка', '7707083893', 'Москва', '{}', false, 3)`, [contractorId, account]);
    const row = {
      id,
      name: 'Счёт 1',
      type: 'Счёт',
      status: DocumentStatus.Draft,
      renderState: 'pending' as const,
      renderError: null,
      revision: 1,
      templateId: null,
      sourceFilename: 'a.html',
      contractorId,
      contractorCopy: { name: 'ООО Ромашка', inn: '7707083893', address: 'Москва' },
      masks: {},
      sum: 100,
    };
    const at = new Date();
    const created = await commands.runOne(account, documents.insert(account, row, at), DocumentCreated, id, snapshotOf(newDocument(account, row, at), null));
    // The constructor's event is the row as stored.
    expect(created.envelope!.data).toEqual(JSON.parse(JSON.stringify(snapshotOf((await documents.find(account, id))!, null))));
    return { id, contractorId };
  }

  /** What the renderer does: read, then write the outcome built from that read. */
  async function finish(id: string, between?: () => Promise<unknown>) {
    const input = (await inputs.find(account, id))!;
    await between?.();
    const at = new Date();
    const change = documents.finishRenderIfUnchanged(account, id, input.doc.revision, input.versions, outcome, at);
    return { at, input, written: await commands.runOne(account, change, DocumentRendered, id, snapshotOf({ ...input.doc, ...outcome, updatedAt: at }, input.replica)) };
  }

  beforeAll(async () => {
    dbUrl = await createTestDatabase('render_outcome');
    ds = createDataSource({ url: dbUrl, entities, migrations, migrationsTableName: 'documents_migrations' });
    await ds.initialize();
    await runMigrations(ds);
    documents = new DocumentsRepository(ds);
    inputs = new RenderInputRepository(ds);
    commands = new Commands(ds, { kick: () => undefined } as unknown as OutboxRelay);
  });

  afterAll(async () => {
    await ds?.destroy();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  it('writes the outcome and an event equal to the row as stored, with the replica as read', async () => {
    const { id, contractorId } = await pendingDocument();
    const { at, written } = await finish(id);
    expect(written.rows).toEqual([{ id }]);
    expect(await state(id)).toEqual({ render_state: 'rendered', status: DocumentStatus.Draft });
    const [stored] = (await ds.query(`SELECT * FROM document WHERE id = $1`, [id])) as { updated_at: Date; storage_key: string }[];
    expect(stored!.updated_at.toISOString()).toBe(at.toISOString());
    // The event is what the transactional way builds from the row as stored (finishRender's snapshot).
    const replica = { name: 'ООО Ромашка', inn: '7707083893', address: 'Москва' };
    const fromRow = snapshotOf((await documents.find(account, id))!, replica);
    expect(await events(id)).toEqual([{ type: 'document.rendered', sequence: 2, data: JSON.parse(JSON.stringify(fromRow)) }]);
    expect(fromRow).toMatchObject({ renderState: 'rendered', storageKey: outcome.storageKey, contractorId, contractor: replica });
  });

  it('writes nothing when the document row changed after the read (its status set meanwhile)', async () => {
    const { id } = await pendingDocument();
    const { written } = await finish(id, () => ds.query(`UPDATE document SET status = $2 WHERE id = $1`, [id, DocumentStatus.Sent]));
    expect(written).toEqual({ rows: [], envelope: null });
    expect(await state(id)).toEqual({ render_state: 'pending', status: DocumentStatus.Sent });
    expect(await events(id)).toEqual([]);
  });

  it("writes nothing when the contractor's replica changed after the read", async () => {
    const { id, contractorId } = await pendingDocument();
    const { written } = await finish(id, () => ds.query(`UPDATE contractor_replica SET name = 'ООО Лютик', version = 4 WHERE id = $1`, [contractorId]));
    expect(written.envelope).toBeNull();
    expect((await state(id))!.render_state).toBe('pending');
    expect(await events(id)).toEqual([]);
  });

  it('writes nothing for a document superseded, done or deleted meanwhile', async () => {
    for (const meanwhile of [
      (id: string) => ds.query(`UPDATE document SET revision = 2 WHERE id = $1`, [id]),
      (id: string) => ds.query(`UPDATE document SET render_state = 'failed' WHERE id = $1`, [id]),
      (id: string) => ds.query(`DELETE FROM document WHERE id = $1`, [id]),
    ]) {
      const { id } = await pendingDocument();
      const { written } = await finish(id, () => meanwhile(id));
      expect(written.envelope).toBeNull();
      expect(await events(id)).toEqual([]);
    }
  });
});
