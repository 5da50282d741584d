import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { FinanceEntityType, FinanceTarget } from '@papka/contracts';
import { MAPPING_KIND, targetsTaking } from '../connectors';

/** Mapping kinds, by the entity type whose remote object they name (the port's MAPPING_KIND). */
export const KIND: Record<FinanceEntityType, string> = MAPPING_KIND;

/**
 * The advisory lock of an account's queueing: `enqueue` holds it shared, a new connection's
 * backfill exclusive, each until its transaction ends. So an event handled while the first PUT
 * runs is either seen by the backfill (it committed first) or sees the new connection (it
 * waited for the PUT): never neither.
 */
const ACCOUNT_LOCK = `hashtextextended('finance-sync:queue:' || $1::text, 0)`;

export interface ClaimedRecord {
  id: string;
  entityType: FinanceEntityType;
  entityId: string;
  op: 'upsert' | 'remove';
  attempts: number;
  revision: number;
  /** Synced before with other content: the remote object is to be updated, not only created. */
  changed: boolean;
  /** Never synced: an object an earlier attempt made (a lost answer, a later step refused) may hold older content. */
  neverSynced: boolean;
  /** The content hash its objects were last sent with (a step that ran), when this claim was taken; null: none ran, or before this was kept. */
  sentHash: string | null;
  /** The content hash queued when this claim was taken: what a successful sync puts in the target. */
  claimedHash: string | null;
}

export type LedgerState = 'sending' | 'done' | 'failed';

export interface Mapping {
  remoteId: string;
  remoteDeleted: boolean;
  origin: 'papka' | 'remote';
  parentId: string | null;
}

/** Entities are claimed in dependency order: contractors before deals before documents before payments. */
const ORDER = `CASE entity_type WHEN 'contractor' THEN 0 WHEN 'interaction' THEN 1 WHEN 'document' THEN 2 ELSE 3 END`;

/**
 * The engine's tables: records (per entity and connection), the ledger (per connection,
 * operation and entity, written before every remote call) and the local <-> remote mapping.
 * Every method takes the account and the connection.
 */
@Injectable()
export class SyncRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Queues the entity for every connection of the account whose target takes its type. An
   * unchanged entity (same content hash, same operation) is left as it is: a re-announce or a
   * replay queues nothing. A disconnected connection is queued too: its worker does not run
   * (nothing is sent), and a later PUT, which reuses the connection and its records, sends what
   * changed meanwhile. Its backfill adds only entities with no record yet. `only`: just the
   * connections to these targets (a document's hash differs by target: `documentsWithPayment`).
   */
  async enqueue(m: EntityManager, accountId: string, entityType: FinanceEntityType, entityId: string, hash: string, op: 'upsert' | 'remove', only?: readonly FinanceTarget[]): Promise<void> {
    const targets = targetsTaking(entityType).filter((t) => !only || only.includes(t));
    if (targets.length === 0) return;
    await m.query(`SELECT pg_advisory_xact_lock_shared(${ACCOUNT_LOCK})`, [accountId]);
    await m.query(
      `INSERT INTO sync_record (connection_id, account_id, entity_type, entity_id, op, content_hash)
       SELECT c.id, c.account_id, $2, $3::uuid, $5, $4 FROM finance_connection c WHERE c.account_id = $1 AND c.target = ANY($6::text[])
       ON CONFLICT (connection_id, entity_type, entity_id) DO UPDATE
         SET op = excluded.op, content_hash = excluded.content_hash, state = 'pending', attempts = 0, last_error = NULL, due_at = now(), updated_at = now(),
             waiting_for = NULL, revision = sync_record.revision + 1
         WHERE sync_record.content_hash IS DISTINCT FROM excluded.content_hash OR sync_record.op IS DISTINCT FROM excluded.op`,
      [accountId, entityType, entityId, hash, op, targets],
    );
  }

  /** Whether the account has a connection (connected or not: `enqueue` queues both) to one of these targets. */
  async hasConnectionTo(m: EntityManager, accountId: string, targets: readonly FinanceTarget[]): Promise<boolean> {
    if (targets.length === 0) return false;
    const rows = (await m.query(`SELECT 1 FROM finance_connection WHERE account_id = $1 AND target = ANY($2::text[]) LIMIT 1`, [accountId, targets])) as unknown[];
    return rows.length > 0;
  }

  /** Held by a new connection's transaction before its backfill (see ACCOUNT_LOCK). */
  async lockAccountQueue(m: EntityManager, accountId: string): Promise<void> {
    await m.query(`SELECT pg_advisory_xact_lock(${ACCOUNT_LOCK})`, [accountId]);
  }

  /**
   * Queues every entity of the account's read models that the target takes for a new
   * connection; answers how many were queued. Takes the account's queue lock first.
   */
  async backfill(m: EntityManager, accountId: string, connectionId: string, target: FinanceTarget): Promise<number> {
    await this.lockAccountQueue(m, accountId);
    const takes = (t: FinanceEntityType) => targetsTaking(t).includes(target);
    const parts = [
      takes('contractor') && `SELECT $2::uuid, $1, 'contractor', id, 'upsert', NULL, true FROM contractor_replica WHERE account_id = $1 AND NOT deleted`,
      takes('interaction') && `SELECT $2::uuid, $1, 'interaction', id, 'upsert', NULL, true FROM interaction_replica WHERE account_id = $1 AND NOT deleted`,
      takes('document') && `SELECT $2::uuid, $1, 'document', id, 'upsert', NULL, true FROM document_replica WHERE account_id = $1 AND NOT deleted`,
      takes('payment') && `SELECT $2::uuid, $1, 'payment', id, 'upsert', 'create', true FROM payment_replica WHERE account_id = $1 AND NOT removed`,
    ].filter((x): x is string => typeof x === 'string');
    if (parts.length === 0) return 0;
    const rows = (await m.query(
      `INSERT INTO sync_record (connection_id, account_id, entity_type, entity_id, op, content_hash, backfill)
       ${parts.join(' UNION ALL ')}
       ON CONFLICT (connection_id, entity_type, entity_id) DO NOTHING RETURNING 1`,
      [accountId, connectionId],
    )) as unknown[];
    return rows.length;
  }

  /**
   * Claims due records of a connection for `leaseMs`; FOR UPDATE SKIP LOCKED, so replicas of
   * the service share the work and never take the same record.
   */
  async claim(accountId: string, connectionId: string, limit: number, leaseMs: number): Promise<ClaimedRecord[]> {
    const rows = (await this.ds.query(
      `UPDATE sync_record r SET lease_until = now() + ($4 || ' milliseconds')::interval
        WHERE r.id IN (
          SELECT id FROM sync_record
           WHERE connection_id = $2 AND account_id = $1 AND state = 'pending' AND due_at <= now() AND (lease_until IS NULL OR lease_until < now())
           ORDER BY ${ORDER}, due_at, created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING r.id, r.entity_type, r.entity_id, r.op, r.attempts, r.revision, r.content_hash,
                 (r.synced_hash IS NOT NULL AND r.content_hash IS NOT NULL AND r.content_hash <> r.synced_hash) AS changed,
                 (r.synced_hash IS NULL) AS never_synced, r.sent_hash`,
      [accountId, connectionId, limit, String(leaseMs)],
    )) as [{ id: string; entity_type: FinanceEntityType; entity_id: string; op: 'upsert' | 'remove'; attempts: number; revision: number; content_hash: string | null; changed: boolean; never_synced: boolean; sent_hash: string | null }[], number];
    return rows[0].map((r) => ({
      id: r.id,
      entityType: r.entity_type,
      entityId: r.entity_id,
      op: r.op,
      attempts: r.attempts,
      revision: r.revision,
      changed: r.changed,
      neverSynced: r.never_synced,
      sentHash: r.sent_hash,
      claimedHash: r.content_hash,
    }));
  }

  /**
   * The outcome of a claim; clears its lease. When the record was re-queued meanwhile (a newer
   * revision) it stays pending and due, and only the remote id is kept.
   */
  async finish(
    m: EntityManager | undefined,
    accountId: string,
    rec: Pick<ClaimedRecord, 'id' | 'revision'> & Partial<Pick<ClaimedRecord, 'claimedHash'>>,
    o: {
      state: 'pending' | 'synced' | 'failed' | 'parked';
      attempts?: number;
      lastError?: string | null;
      remoteId?: string | null;
      dueInMs?: number;
      /** The content hash of what the target now holds (default: the queued content_hash). */
      syncedHash?: string | null;
      /** Parked: the mapping `<kind>:<local id>` it waits for. */
      waitingFor?: string | null;
    },
  ): Promise<void> {
    await (m ?? this.ds).query(
      `UPDATE sync_record SET
              state = CASE WHEN revision = $8 THEN $3 ELSE 'pending' END,
              attempts = CASE WHEN revision = $8 THEN COALESCE($4, attempts) ELSE attempts END,
              last_error = CASE WHEN revision <> $8 THEN last_error WHEN $3 = 'synced' THEN $5 ELSE COALESCE($5, last_error) END,
              waiting_for = CASE WHEN revision = $8 AND $3 = 'parked' THEN $11 ELSE NULL END,
              remote_id = COALESCE($6, remote_id),
              due_at = CASE WHEN revision = $8 THEN now() + ($7 || ' milliseconds')::interval ELSE now() END,
              lease_until = NULL,
              synced_at = CASE WHEN revision = $8 AND $3 = 'synced' THEN now() ELSE synced_at END,
              -- The target holds what this claim sent, even when a newer revision was queued
              -- meanwhile: that one then shows as changed (content_hash <> synced_hash) and is
              -- pushed as an update instead of being taken for a fresh create.
              synced_hash = CASE WHEN $3 <> 'synced' THEN synced_hash
                                 WHEN revision = $8 THEN COALESCE($9, content_hash)
                                 ELSE COALESCE($9, $10, synced_hash) END,
              updated_at = now()
        WHERE id = $2 AND account_id = $1`,
      [accountId, rec.id, o.state, o.attempts ?? null, o.lastError ?? null, o.remoteId ?? null, String(Math.max(0, Math.round(o.dueInMs ?? 0))), rec.revision, o.syncedHash ?? null, rec.claimedHash ?? null, o.waitingFor ?? null],
    );
  }

  /**
   * `finish` as `synced` for many claims in one statement (a bulk batch's records), each with its
   * own remote id; the same rules per record (a newer revision stays pending and due).
   */
  async finishSynced(
    m: EntityManager,
    accountId: string,
    done: { rec: Pick<ClaimedRecord, 'id' | 'revision'> & Partial<Pick<ClaimedRecord, 'claimedHash'>>; remoteId: string | null }[],
    o: { lastError?: string | null; syncedHash?: string | null } = {},
  ): Promise<void> {
    if (done.length === 0) return;
    await m.query(
      `UPDATE sync_record r SET
              state = CASE WHEN r.revision = x.revision THEN 'synced' ELSE 'pending' END,
              last_error = CASE WHEN r.revision <> x.revision THEN r.last_error ELSE $3 END,
              waiting_for = NULL,
              remote_id = COALESCE(x.remote_id, r.remote_id),
              due_at = now(),
              lease_until = NULL,
              synced_at = CASE WHEN r.revision = x.revision THEN now() ELSE r.synced_at END,
              synced_hash = CASE WHEN r.revision = x.revision THEN COALESCE($4, r.content_hash) ELSE COALESCE($4, x.claimed_hash, r.synced_hash) END,
              updated_at = now()
         FROM unnest($2::uuid[], $5::int[], $6::text[], $7::text[]) AS x(id, revision, remote_id, claimed_hash)
        WHERE r.id = x.id AND r.account_id = $1`,
      [accountId, done.map((d) => d.rec.id), o.lastError ?? null, o.syncedHash ?? null, done.map((d) => d.rec.revision), done.map((d) => d.remoteId), done.map((d) => d.rec.claimedHash ?? null)],
    );
  }

  /**
   * Parked records of the connection waiting for one of these mappings (`<kind>:<local id>`) go
   * back to the queue; so do those parked without a dependency named (from before it was kept).
   */
  async releaseParked(accountId: string, connectionId: string, mapped: string[]): Promise<number> {
    const [rows] = (await this.ds.query(
      `UPDATE sync_record SET state = 'pending', due_at = now(), waiting_for = NULL, updated_at = now()
        WHERE connection_id = $2 AND account_id = $1 AND state = 'parked' AND (waiting_for IS NULL OR waiting_for = ANY($3::text[])) RETURNING 1`,
      [accountId, connectionId, mapped],
    )) as [unknown[], number];
    return rows.length;
  }

  /**
   * Within an event's transaction: parked records of every connection of the account waiting for
   * one of these (`<kind>:<local id>`) go back to the queue (a document reached the read model, or
   * was detached). Takes the account's queue lock shared first: a worker checking again after
   * parking holds it exclusive (`lockAccountQueue`), so either it sees this transaction's writes or
   * this update sees its parked record.
   */
  async releaseParkedOfAccount(m: EntityManager, accountId: string, waitingFor: string[]): Promise<void> {
    if (waitingFor.length === 0) return;
    await m.query(`SELECT pg_advisory_xact_lock_shared(${ACCOUNT_LOCK})`, [accountId]);
    await m.query(
      `UPDATE sync_record SET state = 'pending', due_at = now(), waiting_for = NULL, updated_at = now()
        WHERE account_id = $1 AND state = 'parked' AND waiting_for = ANY($2::text[])`,
      [accountId, waitingFor],
    );
  }

  /** Entities of the type whose record on this connection says "not applicable" (synced, no remote id). */
  async notApplicable(accountId: string, connectionId: string, entityType: FinanceEntityType): Promise<Set<string>> {
    const rows = (await this.ds.query(
      `SELECT entity_id FROM sync_record WHERE connection_id = $2 AND account_id = $1 AND entity_type = $3 AND state = 'synced' AND remote_id IS NULL AND last_error LIKE 'not applicable:%'`,
      [accountId, connectionId, entityType],
    )) as { entity_id: string }[];
    return new Set(rows.map((r) => r.entity_id));
  }

  /** Whether the entity's record on this connection says "not applicable" (its object will never exist there). */
  async isNotApplicable(accountId: string, connectionId: string, entityType: FinanceEntityType, entityId: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `SELECT 1 FROM sync_record WHERE connection_id = $2 AND account_id = $1 AND entity_type = $3 AND entity_id = $4
          AND state = 'synced' AND remote_id IS NULL AND last_error LIKE 'not applicable:%'`,
      [accountId, connectionId, entityType, entityId],
    );
    return rows.length > 0;
  }

  /**
   * An interaction's documents changed (an invoice attached, say): its payments that were not
   * applicable anywhere are asked again (a payment's own content never changes, so nothing else
   * would queue them). A payment still pending gets a new revision too: a worker may have claimed
   * it and read the interaction's documents before this change committed, and the new revision
   * makes that worker's outcome ("not applicable", say) leave the record pending instead of final.
   */
  async requeueNotApplicablePayments(m: EntityManager, accountId: string, interactionId: string, connectionId?: string, targets?: readonly FinanceTarget[]): Promise<void> {
    if (targets?.length === 0) return;
    if (targets) {
      // Only for an account with a connection to one of them (the lock taken in the same
      // statement): most accounts have none, and this runs on every payment event.
      const [has] = (await m.query(`SELECT pg_advisory_xact_lock_shared(${ACCOUNT_LOCK}) FROM finance_connection WHERE account_id = $1 AND target = ANY($2::text[]) LIMIT 1`, [
        accountId,
        targets,
      ])) as unknown[];
      if (!has) return;
    } else if (!connectionId) await m.query(`SELECT pg_advisory_xact_lock_shared(${ACCOUNT_LOCK})`, [accountId]);
    await m.query(
      `UPDATE sync_record r SET state = 'pending', revision = r.revision + 1, updated_at = now(),
              attempts = CASE WHEN r.state = 'synced' THEN 0 ELSE r.attempts END,
              last_error = CASE WHEN r.state = 'synced' THEN NULL ELSE r.last_error END,
              due_at = CASE WHEN r.state = 'synced' THEN now() ELSE r.due_at END
         FROM payment_replica p
        WHERE p.id = r.entity_id AND p.account_id = $1 AND p.interaction_id = $2 AND NOT p.removed
          AND r.account_id = $1 AND r.entity_type = 'payment' AND r.op = 'upsert'
          AND (r.state = 'pending' OR (r.state = 'synced' AND r.remote_id IS NULL AND r.last_error LIKE 'not applicable:%'))
          AND ($3::uuid IS NULL OR r.connection_id = $3)
          AND ($4::text[] IS NULL OR r.connection_id IN (SELECT id FROM finance_connection WHERE account_id = $1 AND target = ANY($4::text[])))`,
      [accountId, interactionId, connectionId ?? null, targets ?? null],
    );
  }

  /** Live documents this connection has a remote object of, created (in Papka) within [from, to] (reconciliation). */
  async syncedDocuments(accountId: string, connectionId: string, from: string, to: string): Promise<{ id: string; remoteId: string; sum: number }[]> {
    const rows = (await this.ds.query(
      `SELECT d.id, mp.remote_id, d.sum FROM sync_mapping mp
         JOIN finance_connection c ON c.id = mp.connection_id AND c.account_id = $1
         JOIN document_replica d ON d.id = mp.local_id AND d.account_id = $1 AND NOT d.deleted
        WHERE mp.connection_id = $2 AND mp.kind = $5 AND left(d.doc_created_at, 10) BETWEEN $3 AND $4 ORDER BY d.id`,
      [accountId, connectionId, from, to, KIND.document],
    )) as { id: string; remote_id: string; sum: string }[];
    return rows.map((r) => ({ id: r.id, remoteId: r.remote_id, sum: Number(r.sum) }));
  }

  async mappings(accountId: string, connectionId: string, kind: string, localIds: string[]): Promise<Map<string, Mapping>> {
    if (localIds.length === 0) return new Map();
    const rows = (await this.ds.query(
      `SELECT mp.local_id, mp.remote_id, mp.remote_deleted, mp.origin, mp.parent_id FROM sync_mapping mp JOIN finance_connection c ON c.id = mp.connection_id
        WHERE mp.connection_id = $2 AND c.account_id = $1 AND mp.kind = $3 AND mp.local_id = ANY($4::uuid[])`,
      [accountId, connectionId, kind, localIds],
    )) as { local_id: string; remote_id: string; remote_deleted: boolean; origin: 'papka' | 'remote'; parent_id: string | null }[];
    return new Map(rows.map((r) => [r.local_id, { remoteId: r.remote_id, remoteDeleted: r.remote_deleted, origin: r.origin, parentId: r.parent_id }]));
  }

  /** The local entity a remote object maps to. */
  async localOf(accountId: string, connectionId: string, kind: string, remoteId: string): Promise<(Mapping & { localId: string }) | null> {
    const [r] = (await this.ds.query(
      `SELECT mp.local_id, mp.remote_id, mp.remote_deleted, mp.origin, mp.parent_id FROM sync_mapping mp JOIN finance_connection c ON c.id = mp.connection_id
        WHERE mp.connection_id = $2 AND c.account_id = $1 AND mp.kind = $3 AND mp.remote_id = $4 LIMIT 1`,
      [accountId, connectionId, kind, remoteId],
    )) as { local_id: string; remote_id: string; remote_deleted: boolean; origin: 'papka' | 'remote'; parent_id: string | null }[];
    return r ? { localId: r.local_id, remoteId: r.remote_id, remoteDeleted: r.remote_deleted, origin: r.origin, parentId: r.parent_id } : null;
  }

  /** Every object mapped under an entity (its steps' mappings: an Adesk contractor's requisites, say), by `kind:localId`. */
  async childMappings(accountId: string, connectionId: string, parentId: string): Promise<Map<string, string>> {
    const rows = (await this.ds.query(
      `SELECT mp.kind, mp.local_id, mp.remote_id FROM sync_mapping mp JOIN finance_connection c ON c.id = mp.connection_id
        WHERE mp.connection_id = $2 AND c.account_id = $1 AND mp.parent_id = $3::uuid`,
      [accountId, connectionId, parentId],
    )) as { kind: string; local_id: string; remote_id: string }[];
    return new Map(rows.map((r) => [`${r.kind}:${r.local_id}`, r.remote_id]));
  }

  /** Drops a mapping whose remote object was removed by a step (a removed bank account's requisites). */
  async unmap(m: EntityManager, accountId: string, connectionId: string, kind: string, localId: string): Promise<void> {
    await m.query(
      `DELETE FROM sync_mapping mp USING finance_connection c WHERE c.id = mp.connection_id AND c.account_id = $1 AND mp.connection_id = $2 AND mp.kind = $3 AND mp.local_id = $4::uuid`,
      [accountId, connectionId, kind, localId],
    );
  }

  /** Inserts the mapping; false when the entity was mapped already (the first one stays). */
  async map(
    m: EntityManager,
    accountId: string,
    connectionId: string,
    kind: string,
    localId: string,
    remoteId: string,
    o: { parentId?: string | null; origin?: 'papka' | 'remote' } = {},
  ): Promise<boolean> {
    const rows: unknown[] = await m.query(
      `INSERT INTO sync_mapping (connection_id, kind, local_id, remote_id, parent_id, origin)
       SELECT c.id, $3, $4::uuid, $5, $6::uuid, $7 FROM finance_connection c WHERE c.id = $2 AND c.account_id = $1
       ON CONFLICT (connection_id, kind, local_id) DO NOTHING RETURNING 1`,
      [accountId, connectionId, kind, localId, remoteId, o.parentId ?? null, o.origin ?? 'papka'],
    );
    return rows.length > 0;
  }

  /** `map` of many entities of one kind in one statement; answers how many were new. */
  async mapMany(m: EntityManager, accountId: string, connectionId: string, kind: string, pairs: { localId: string; remoteId: string }[]): Promise<number> {
    if (pairs.length === 0) return 0;
    const rows: unknown[] = await m.query(
      `INSERT INTO sync_mapping (connection_id, kind, local_id, remote_id, parent_id, origin)
       SELECT c.id, $3, x.local_id, x.remote_id, NULL, 'papka' FROM finance_connection c, unnest($4::uuid[], $5::text[]) AS x(local_id, remote_id)
        WHERE c.id = $2 AND c.account_id = $1
       ON CONFLICT (connection_id, kind, local_id) DO NOTHING RETURNING 1`,
      [accountId, connectionId, kind, pairs.map((p) => p.localId), pairs.map((p) => p.remoteId)],
    );
    return rows.length;
  }

  async markRemoteDeleted(m: EntityManager, accountId: string, connectionId: string, kind: string, localId: string): Promise<boolean> {
    const [rows] = (await m.query(
      `UPDATE sync_mapping mp SET remote_deleted = true FROM finance_connection c
        WHERE c.id = mp.connection_id AND c.account_id = $1 AND mp.connection_id = $2 AND mp.kind = $3 AND mp.local_id = $4 AND NOT mp.remote_deleted RETURNING 1`,
      [accountId, connectionId, kind, localId],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  async ledger(accountId: string, connectionId: string, op: string, keys: string[]): Promise<Map<string, LedgerState>> {
    if (keys.length === 0) return new Map();
    const rows = (await this.ds.query(
      `SELECT l.entity_id, l.state FROM sync_ledger l JOIN finance_connection c ON c.id = l.connection_id
        WHERE l.connection_id = $2 AND c.account_id = $1 AND l.op = $3 AND l.entity_id = ANY($4::uuid[])`,
      [accountId, connectionId, op, keys],
    )) as { entity_id: string; state: LedgerState }[];
    return new Map(rows.map((r) => [r.entity_id, r.state]));
  }

  /**
   * Written (and committed) before the remote call: from here on, until `ledgerDone` or
   * `ledgerNotApplied`, the call's outcome is unknown, and whoever picks the entity up next
   * looks the object up before sending it again. The idempotency key is the connection, the
   * operation and the entity uuid: never the event id.
   */
  /** The ledger says `op` is being sent for `keys`; with `record`, that record's objects are now sent with content `hash` (`sent_hash`), in the same statement. */
  async ledgerSending(accountId: string, connectionId: string, op: string, keys: string[], record?: { id: string; hash: string }): Promise<void> {
    if (keys.length === 0) return;
    await this.ds.query(
      `WITH sent AS (
         UPDATE sync_record SET sent_hash = $6 WHERE id = $5::uuid AND account_id = $1 AND $5::uuid IS NOT NULL
       )
       INSERT INTO sync_ledger (connection_id, op, entity_id, idempotency_key, state, sends, sent_at)
       SELECT c.id, $3, k, c.id || ':' || $3 || ':' || k, 'sending', 1, now() FROM finance_connection c, unnest($4::uuid[]) AS k WHERE c.id = $2 AND c.account_id = $1
       ON CONFLICT (connection_id, op, entity_id) DO UPDATE SET state = 'sending', sends = sync_ledger.sends + 1, sent_at = now(), finished_at = NULL`,
      [accountId, connectionId, op, keys, record?.id ?? null, record?.hash ?? null],
    );
  }

  async ledgerFinish(m: EntityManager | undefined, accountId: string, connectionId: string, op: string, keys: string[], state: 'done' | 'failed', remoteIds?: (string | null)[]): Promise<void> {
    if (keys.length === 0) return;
    await (m ?? this.ds).query(
      `UPDATE sync_ledger l SET state = $4, remote_id = COALESCE(x.remote_id, l.remote_id), finished_at = now()
         FROM unnest($5::uuid[], $6::text[]) AS x(entity_id, remote_id), finance_connection c
        WHERE l.connection_id = $2 AND c.id = l.connection_id AND c.account_id = $1 AND l.op = $3 AND l.entity_id = x.entity_id`,
      [accountId, connectionId, op, state, keys, remoteIds ?? keys.map(() => null)],
    );
  }
}
