import { Injectable, Logger } from '@nestjs/common';
import { InteractionPaymentImportRequested, InteractionPaymentRemoveRequested, type AdeskWebhookDto, type FinanceTarget } from '@papka/contracts';
import { Commands } from '@papka/messaging';
import { fieldError, NotFoundError, TargetUnavailableError } from '@papka/platform';
import { ConnectorError, markerOf, type RemotePayment } from '../connectors';
import { ConnectorPool } from '../connections/connector-pool';
import { ConnectionsRepository, type ConnectionRow } from '../connections/connections.repository';
import { KIND, SyncRepository } from '../engine/sync.repository';
import { ReplicasRepository } from '../replicas/replicas.repository';
import { derivedUuid } from './derived-id';
import { WebhooksRepository } from './webhooks.repository';

const CREATED = new Set(['transaction.created', 'transaction.updated', 'transaction.confirmed']);
const DELETED = 'transaction.deleted';
/** The ledger op of a bulk payment create (sync.worker.ts). */
const CREATE_PAYMENT = 'transaction.create';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Inbound webhooks. Adesk signs nothing (finance-targets §1.6): the unguessable path token
 * names the connection, each event is taken once per (connection, eventId), and the payload is
 * only a hint: every object is re-read from Adesk before anything happens.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly pool: ConnectorPool,
    private readonly repo: WebhooksRepository,
    private readonly sync: SyncRepository,
    private readonly replicas: ReplicasRepository,
    private readonly commands: Commands,
  ) {}

  async receive(target: FinanceTarget, hookToken: string, body: AdeskWebhookDto): Promise<void> {
    const c = await this.connections.byHookToken(target, hookToken);
    // Only a connection whose target has webhooks has a hook (Adesk's connector registers and re-reads).
    if (!c || !c.webhookUrl || !this.pool.for(c).readPayment) throw new NotFoundError('webhook');
    if (await this.repo.seen(c.accountId, c.id, body.eventId)) return;
    const ids = body.data.map((o, n) => {
      const id = o.id;
      if ((typeof id !== 'number' && typeof id !== 'string') || !/^\d{1,18}$/.test(String(id))) throw fieldError(`data.${n}.id`, `data.${n}.id must be the object's numeric id`);
      return String(id);
    });
    const imports: { remoteId: string; interactionId: string; paymentId: string; p: RemotePayment }[] = [];
    const removals: { remoteId: string; paymentId: string; interactionId: string }[] = [];
    // Echoes of our own bulk creates usually beat the mapping (Adesk sends them at once). Their
    // payload carries our marker for a payment this connection's ledger is sending or has sent:
    // that can only lead to "change nothing", so it is decided without re-reading each object
    // (one GET per payment otherwise, found by bench/finance.bench.ts).
    const ours = CREATED.has(body.eventType) ? await this.ownCreates(c, body.data) : new Set<number>();
    try {
      if (body.eventType.startsWith('transaction.')) {
        for (const [n, remoteId] of ids.entries()) {
          if (CREATED.has(body.eventType)) {
            if (ours.has(n)) continue;
            const imp = await this.importable(c, remoteId);
            if (imp) imports.push(imp);
          } else if (body.eventType === DELETED) {
            const rem = await this.removable(c, remoteId);
            if (rem) removals.push(rem);
          }
        }
      }
    } catch (err) {
      // Adesk could not be asked: not 200, so Adesk delivers the event again later.
      if (err instanceof ConnectorError) throw new TargetUnavailableError(target);
      throw err;
    }
    await this.commands.run(c.accountId, async (t) => {
      if (!(await this.repo.receive(t.manager, c.accountId, c.id, body.eventId))) return;
      for (const i of imports) {
        // The mapping first: the payment the interactions service records from this is then
        // already "in Adesk", so the engine does not push it back.
        if (!(await this.sync.map(t.manager, c.accountId, c.id, KIND.payment, i.paymentId, i.remoteId, { origin: 'remote', parentId: i.interactionId }))) continue;
        await this.repo.recordImported(t.manager, c.accountId, c.id, i.paymentId, i.remoteId);
        await t.emit(InteractionPaymentImportRequested, i.interactionId, {
          interactionId: i.interactionId,
          paymentId: i.paymentId,
          source: target,
          externalId: i.remoteId,
          type: i.p.type,
          name: i.p.description.trim() || `${target} ${i.remoteId}`,
          sum: i.p.sum,
          date: i.p.date,
        });
      }
      for (const r of removals) {
        if (!(await this.sync.markRemoteDeleted(t.manager, c.accountId, c.id, KIND.payment, r.paymentId))) continue;
        await t.emit(InteractionPaymentRemoveRequested, r.interactionId, { interactionId: r.interactionId, paymentId: r.paymentId, source: target, externalId: r.remoteId });
      }
    });
    if (imports.length || removals.length) this.logger.log(`${target} webhook ${body.eventType}: ${imports.length} imported, ${removals.length} removed`);
  }

  /** Indexes of `data` whose description marks a payment this connection's ledger has a create of. */
  private async ownCreates(c: ConnectionRow, data: AdeskWebhookDto['data']): Promise<Set<number>> {
    const marked = data.map((o) => markerOf(typeof o.description === 'string' ? o.description : null));
    const ids = [...new Set(marked.filter((m): m is string => m !== null && UUID.test(m)))];
    if (ids.length === 0) return new Set();
    const ledger = await this.sync.ledger(c.accountId, c.id, CREATE_PAYMENT, ids);
    return new Set(marked.flatMap((m, n) => (m && (ledger.get(m) === 'sending' || ledger.get(m) === 'done') ? [n] : [])));
  }

  private read(c: ConnectionRow, remoteId: string): Promise<RemotePayment | null> {
    const connector = this.pool.for(c);
    return connector.readPayment!(remoteId);
  }

  /** A transaction made in the target on a deal we mapped, that is not one of ours (no echo). */
  private async importable(c: ConnectionRow, remoteId: string) {
    // An echo of our own create: its id is mapped already...
    if (await this.sync.localOf(c.accountId, c.id, KIND.payment, remoteId)) return null;
    const p = await this.read(c, remoteId);
    if (!p || Number.isNaN(p.sum) || !p.date || !p.projectRemoteId) return null;
    // ...or will be as soon as the bulk answer is in (the webhook beat it): it carries our marker.
    if (p.entityId) return null;
    const project = await this.sync.localOf(c.accountId, c.id, KIND.interaction, p.projectRemoteId);
    if (!project) return null;
    return { remoteId, interactionId: project.localId, paymentId: derivedUuid(`${c.id}:${KIND.payment}:${remoteId}`), p };
  }

  /** A mapped transaction that is really gone from the target. */
  private async removable(c: ConnectionRow, remoteId: string) {
    const local = await this.sync.localOf(c.accountId, c.id, KIND.payment, remoteId);
    if (!local || local.remoteDeleted) return null;
    if (await this.read(c, remoteId)) return null;
    const interactionId = local.parentId ?? (await this.replicas.payments(c.accountId, [local.localId])).get(local.localId)?.interactionId;
    if (!interactionId) return null;
    return { remoteId, paymentId: local.localId, interactionId };
  }
}
