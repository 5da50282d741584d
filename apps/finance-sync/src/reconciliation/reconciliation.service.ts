import { Injectable } from '@nestjs/common';
import type { AccountContext } from '@papka/auth';
import type { ReconciliationMismatch, ReconciliationQuery, ReconciliationView } from '@papka/contracts';
import { fieldError, NotFoundError, TargetUnavailableError } from '@papka/platform';
import { ConnectorError, type RemotePayment } from '../connectors';
import { ConnectorPool } from '../connections/connector-pool';
import { ConnectionsRepository } from '../connections/connections.repository';
import { connectedTarget } from '../connections/connections.service';
import { KIND, SyncRepository } from '../engine/sync.repository';
import { ReplicasRepository } from '../replicas/replicas.repository';

/** Longest window one report reads: a year of transactions is a few hundred list pages at most. */
const MAX_DAYS = 366;

/**
 * What differs between Papka and the target over a date range, read live from both: payments
 * (by mapping, importedId and the description marker) and the deals carrying our marker. An
 * empty report is the proof of "one remote object per entity".
 */
@Injectable()
export class ReconciliationService {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly pool: ConnectorPool,
    private readonly sync: SyncRepository,
    private readonly replicas: ReplicasRepository,
  ) {}

  async report(acc: AccountContext, rawTarget: string, q: ReconciliationQuery): Promise<ReconciliationView> {
    const target = connectedTarget(rawTarget);
    if (q.from > q.to) throw fieldError('to', 'to must not be before from');
    if ((Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 > MAX_DAYS) throw fieldError('to', `the range must be at most ${MAX_DAYS} days`);
    const c = await this.connections.get(acc.accountId, target);
    if (!c || !c.connected) throw new NotFoundError('connection');
    const connector = this.pool.for(c);
    let remote: RemotePayment[];
    let projects: Map<string, string[]>;
    try {
      remote = await connector.listPayments(q.from, q.to);
      projects = await connector.listMarkedProjects();
    } catch (err) {
      if (err instanceof ConnectorError) throw new TargetUnavailableError(target);
      throw err;
    }
    const local = await this.replicas.paymentsBetween(acc.accountId, q.from, q.to);
    const mapping = await this.sync.mappings(acc.accountId, c.id, KIND.payment, local.map((p) => p.id));
    const byRemoteId = new Map(remote.map((r) => [r.remoteId, r]));
    // Remote objects per Papka payment: by the mapping (imported ones carry no marker) and by marker.
    const perEntity = new Map<string, Set<string>>();
    const add = (entityId: string, remoteId: string) => perEntity.set(entityId, (perEntity.get(entityId) ?? new Set()).add(remoteId));
    for (const r of remote) if (r.entityId) add(r.entityId, r.remoteId);
    for (const [entityId, m] of mapping) if (byRemoteId.has(m.remoteId)) add(entityId, m.remoteId);

    const view: ReconciliationView = { missingRemote: [], extraRemote: [], mismatched: [], duplicates: [] };
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
    for (const [entityId, ids] of projects) if (ids.length > 1) view.duplicates.push({ entityType: 'interaction', entityId, remoteIds: ids.sort() });
    return view;
  }
}
