import { Injectable } from '@nestjs/common';
import type { AccountContext } from '@papka/auth';
import type { ReconciliationMismatch, ReconciliationQuery, ReconciliationView } from '@papka/contracts';
import { fieldError, NotFoundError, TargetUnavailableError } from '@papka/platform';
import { ConnectorError, targetsTaking, type Connector, type RemoteDocument, type RemotePayment } from '../connectors';
import { ConnectorPool } from '../connections/connector-pool';
import { ConnectionsRepository, type ConnectionRow } from '../connections/connections.repository';
import { connectedTarget } from '../connections/connections.service';
import { KIND, SyncRepository } from '../engine/sync.repository';
import { ReplicasRepository } from '../replicas/replicas.repository';
import { ReconciliationRepository } from './reconciliation.repository';

/** Longest window one report reads: a year of transactions is a few hundred list pages at most. */
const MAX_DAYS = 366;

/**
 * What differs between Papka and the target over a date range, read live from both, over
 * whatever the target's connector can list: payments (by mapping and the object's Papka key
 * or marker), marked deals (duplicates) and documents. An empty report is the proof of "one
 * remote object per entity". A connector that lists nothing gets a one-sided report from
 * Papka's side (`remoteListed: false`): the documents and payments in the range that it takes
 * whose record is not synced or whose last call has an unknown outcome; nothing can be extra,
 * mismatched or duplicated there as far as Papka can see.
 */
@Injectable()
export class ReconciliationService {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly pool: ConnectorPool,
    private readonly sync: SyncRepository,
    private readonly replicas: ReplicasRepository,
    private readonly local: ReconciliationRepository,
  ) {}

  async report(acc: AccountContext, rawTarget: string, q: ReconciliationQuery): Promise<ReconciliationView> {
    const target = connectedTarget(rawTarget);
    if (q.from > q.to) throw fieldError('to', 'to must not be before from');
    if ((Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 > MAX_DAYS) throw fieldError('to', `the range must be at most ${MAX_DAYS} days`);
    const c = await this.connections.get(acc.accountId, target);
    if (!c || !c.connected) throw new NotFoundError('connection');
    const connector = this.pool.for(c);
    if (!connector.listPayments && !connector.listMarkedProjects && !connector.listDocuments) {
      const types = (['document', 'payment'] as const).filter((t) => targetsTaking(t).includes(target));
      const missingRemote = await this.local.unsyncedLocal(acc.accountId, c.id, [...types], q.from, q.to);
      return { missingRemote, extraRemote: [], mismatched: [], duplicates: [], remoteListed: false };
    }
    const view: ReconciliationView = { missingRemote: [], extraRemote: [], mismatched: [], duplicates: [], remoteListed: true };
    try {
      if (connector.listPayments) await this.payments(acc, c, connector.listPayments.bind(connector), q, view);
      if (connector.listMarkedProjects) for (const [entityId, ids] of await connector.listMarkedProjects()) if (ids.length > 1) view.duplicates.push({ entityType: 'interaction', entityId, remoteIds: ids.sort() });
      if (connector.listDocuments) await this.documents(acc, c, connector, q, view);
    } catch (err) {
      if (err instanceof ConnectorError) throw new TargetUnavailableError(target);
      throw err;
    }
    return view;
  }

  private async payments(acc: AccountContext, c: ConnectionRow, list: (from: string, to: string) => Promise<RemotePayment[]>, q: ReconciliationQuery, view: ReconciliationView): Promise<void> {
    const remote = await list(q.from, q.to);
    const skipped = await this.sync.notApplicable(acc.accountId, c.id, 'payment');
    const local = (await this.replicas.paymentsBetween(acc.accountId, q.from, q.to)).filter((p) => !skipped.has(p.id));
    const mapping = await this.sync.mappings(acc.accountId, c.id, KIND.payment, local.map((p) => p.id));
    const byRemoteId = new Map(remote.map((r) => [r.remoteId, r]));
    // Remote objects per Papka payment: by the mapping (imported ones carry no marker) and by marker.
    const perEntity = new Map<string, Set<string>>();
    const add = (entityId: string, remoteId: string) => perEntity.set(entityId, (perEntity.get(entityId) ?? new Set()).add(remoteId));
    for (const r of remote) if (r.entityId) add(r.entityId, r.remoteId);
    for (const [entityId, m] of mapping) if (byRemoteId.has(m.remoteId)) add(entityId, m.remoteId);

    const liveIds = new Set(local.map((p) => p.id));
    for (const p of local) {
      const ids = [...(perEntity.get(p.id) ?? [])];
      if (ids.length === 0) {
        view.missingRemote.push({ entityType: 'payment', entityId: p.id });
        continue;
      }
      if (ids.length > 1) view.duplicates.push({ entityType: 'payment', entityId: p.id, remoteIds: ids.sort() });
      const r = byRemoteId.get(ids[0]!)!;
      const diff = (field: string, l: unknown, rv: unknown) => l !== rv && view.mismatched.push({ entityId: p.id, field, local: l, remote: rv } satisfies ReconciliationMismatch);
      diff('sum', p.sum, r.sum);
      diff('date', p.date, r.date);
      diff('type', p.type, r.type);
    }
    for (const r of remote) {
      if (!r.entityId || liveIds.has(r.entityId)) continue;
      // A marker of a payment outside the range is not extra: only one that is removed or unknown.
      const known = (await this.replicas.payments(acc.accountId, [r.entityId])).get(r.entityId);
      if (!known || known.removed) view.extraRemote.push({ entityType: 'payment', remoteId: r.remoteId, entityId: r.entityId });
    }
  }

  /** Documents this connection synced to an object (created in the range), against what the target lists. */
  private async documents(acc: AccountContext, c: ConnectionRow, connector: Connector, q: ReconciliationQuery, view: ReconciliationView): Promise<void> {
    const remote: RemoteDocument[] = await connector.listDocuments!(q.from, q.to);
    const local = await this.sync.syncedDocuments(acc.accountId, c.id, q.from, q.to);
    const byRemoteId = new Map(remote.map((r) => [r.remoteId, r]));
    const perEntity = new Map<string, Set<string>>();
    const add = (entityId: string, remoteId: string) => perEntity.set(entityId, (perEntity.get(entityId) ?? new Set()).add(remoteId));
    for (const r of remote) if (r.entityId) add(r.entityId, r.remoteId);
    for (const d of local) if (byRemoteId.has(d.remoteId)) add(d.id, d.remoteId);
    const localIds = new Set(local.map((d) => d.id));
    for (const d of local) {
      const ids = [...(perEntity.get(d.id) ?? [])];
      if (ids.length === 0) {
        view.missingRemote.push({ entityType: 'document', entityId: d.id });
        continue;
      }
      if (ids.length > 1) view.duplicates.push({ entityType: 'document', entityId: d.id, remoteIds: ids.sort() });
      const r = byRemoteId.get(ids[0]!)!;
      if (r.sum !== null && r.sum !== d.sum) view.mismatched.push({ entityId: d.id, field: 'sum', local: d.sum, remote: r.sum });
    }
    for (const r of remote) {
      if (!r.entityId || localIds.has(r.entityId)) continue;
      const known = await this.replicas.document(acc.accountId, r.entityId);
      if (!known || known.deleted) view.extraRemote.push({ entityType: 'document', remoteId: r.remoteId, entityId: r.entityId });
    }
  }
}
