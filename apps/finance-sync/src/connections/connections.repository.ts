import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { FinanceTarget, PauseReason } from '@papka/contracts';

export interface ConnectionRow {
  id: string;
  accountId: string;
  target: FinanceTarget;
  tokenCipher: string | null;
  settings: Record<string, unknown>;
  connected: boolean;
  state: 'active' | 'paused';
  reason: PauseReason | null;
  nextProbeAt: Date | null;
  hookToken: string;
  webhookUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ConnectionStats {
  counts: { pending: number; synced: number; failed: number; parked: number };
  backfill: { total: number; done: number };
}

interface Row {
  id: string;
  account_id: string;
  target: FinanceTarget;
  token_cipher: string | null;
  settings: Record<string, unknown>;
  connected: boolean;
  state: 'active' | 'paused';
  reason: PauseReason | null;
  next_probe_at: Date | null;
  hook_token: string;
  webhook_url: string | null;
  created_at: Date;
  updated_at: Date;
}

const toConnection = (r: Row): ConnectionRow => ({
  id: r.id,
  accountId: r.account_id,
  target: r.target,
  tokenCipher: r.token_cipher,
  settings: r.settings,
  connected: r.connected,
  state: r.state,
  reason: r.reason,
  nextProbeAt: r.next_probe_at,
  hookToken: r.hook_token,
  webhookUrl: r.webhook_url,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const COLUMNS = `id, account_id, target, token_cipher, settings, connected, state, reason, next_probe_at, hook_token, webhook_url, created_at, updated_at`;

/** Per-account connections to finance targets; the token column only ever holds ciphertext. */
@Injectable()
export class ConnectionsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async get(accountId: string, target: FinanceTarget, m: EntityManager = this.ds.manager): Promise<ConnectionRow | null> {
    const [r] = (await m.query(`SELECT ${COLUMNS} FROM finance_connection WHERE account_id = $1 AND target = $2`, [accountId, target])) as Row[];
    return r ? toConnection(r) : null;
  }

  /** Locks the account's connection to the target for the rest of the transaction. */
  async lock(m: EntityManager, accountId: string, target: FinanceTarget): Promise<ConnectionRow | null> {
    const [r] = (await m.query(`SELECT ${COLUMNS} FROM finance_connection WHERE account_id = $1 AND target = $2 FOR UPDATE`, [accountId, target])) as Row[];
    return r ? toConnection(r) : null;
  }

  async list(accountId: string): Promise<ConnectionRow[]> {
    const rows = (await this.ds.query(`SELECT ${COLUMNS} FROM finance_connection WHERE account_id = $1 AND connected ORDER BY target`, [accountId])) as Row[];
    return rows.map(toConnection);
  }

  /** Connected connections of every account, for the worker (it then works per account). */
  async listConnected(): Promise<ConnectionRow[]> {
    const rows = (await this.ds.query(`SELECT ${COLUMNS} FROM finance_connection WHERE connected AND token_cipher IS NOT NULL ORDER BY created_at`)) as Row[];
    return rows.map(toConnection);
  }

  /** The webhook's connection: the unguessable path token is the only credential a webhook has. */
  async byHookToken(target: FinanceTarget, hookToken: string): Promise<ConnectionRow | null> {
    const [r] = (await this.ds.query(`SELECT ${COLUMNS} FROM finance_connection WHERE hook_token = $1 AND target = $2 AND connected`, [hookToken, target])) as Row[];
    return r ? toConnection(r) : null;
  }

  async insert(m: EntityManager, c: Pick<ConnectionRow, 'id' | 'accountId' | 'target' | 'tokenCipher' | 'settings' | 'hookToken' | 'webhookUrl' | 'state' | 'reason'>): Promise<void> {
    await m.query(
      `INSERT INTO finance_connection (id, account_id, target, token_cipher, settings, hook_token, webhook_url, state, reason, next_probe_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $8 = 'paused' THEN now() END)`,
      [c.id, c.accountId, c.target, c.tokenCipher, JSON.stringify(c.settings), c.hookToken, c.webhookUrl, c.state, c.reason],
    );
  }

  /** A new token or settings: connected again, and active at once (a paused connection resumes). */
  async replace(m: EntityManager, accountId: string, id: string, c: Pick<ConnectionRow, 'tokenCipher' | 'settings' | 'webhookUrl' | 'state' | 'reason'>): Promise<void> {
    await m.query(
      `UPDATE finance_connection SET token_cipher = $3, settings = $4, webhook_url = $5, state = $6, reason = $7, connected = true,
              next_probe_at = CASE WHEN $6 = 'paused' THEN now() END, updated_at = now()
        WHERE id = $2 AND account_id = $1`,
      [accountId, id, c.tokenCipher, JSON.stringify(c.settings), c.webhookUrl, c.state, c.reason],
    );
  }

  /**
   * Sync stops and the token is forgotten; records, ledger and mapping stay (a reconnect reuses
   * them). Leases stay too: a round running on another replica sees the disconnect at its next
   * check and hands its records back; cleared here, a reconnect within that time let a second
   * round claim records whose calls were still in flight, and send them again.
   */
  async disconnect(m: EntityManager, accountId: string, id: string): Promise<void> {
    await m.query(`UPDATE finance_connection SET connected = false, token_cipher = NULL, updated_at = now() WHERE id = $2 AND account_id = $1`, [accountId, id]);
  }

  async pause(accountId: string, id: string, reason: PauseReason, probeInMs: number): Promise<void> {
    await this.ds.query(
      `UPDATE finance_connection SET state = 'paused', reason = $3, next_probe_at = now() + ($4 || ' milliseconds')::interval, updated_at = now()
        WHERE id = $2 AND account_id = $1`,
      [accountId, id, reason, String(probeInMs)],
    );
  }

  /** Active again; with `reason`, only a connection paused for that reason; with `settings`, those stored (what `check` answered). */
  async resume(accountId: string, id: string, reason?: PauseReason, settings?: Record<string, unknown>): Promise<void> {
    await this.ds.query(
      `UPDATE finance_connection SET state = 'active', reason = NULL, next_probe_at = NULL, settings = COALESCE($4::jsonb, settings),
              -- Not after rate_limited: the pool keeps the connector (a new updated_at rebuilds it).
              updated_at = CASE WHEN reason = 'rate_limited' THEN updated_at ELSE now() END
        WHERE id = $2 AND account_id = $1 AND state = 'paused' AND ($3::text IS NULL OR reason = $3)`,
      [accountId, id, reason ?? null, settings === undefined ? null : JSON.stringify(settings)],
    );
  }

  /**
   * Shown as `paused` / `rate_limited` (an active connection only: a pause for payment or the
   * token wins). The worker keeps running it; the first call that goes through clears it.
   * `updated_at` is left alone, so the connector pool keeps the connector (and its limiter state).
   */
  async markRateLimited(accountId: string, id: string): Promise<void> {
    await this.ds.query(`UPDATE finance_connection SET state = 'paused', reason = 'rate_limited', next_probe_at = NULL WHERE id = $2 AND account_id = $1 AND state = 'active'`, [accountId, id]);
  }

  async stats(accountId: string, connectionId: string): Promise<ConnectionStats> {
    const [r] = (await this.ds.query(
      `SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending, count(*) FILTER (WHERE state = 'synced')::int AS synced,
              count(*) FILTER (WHERE state = 'failed')::int AS failed, count(*) FILTER (WHERE state = 'parked')::int AS parked,
              count(*) FILTER (WHERE backfill)::int AS total, count(*) FILTER (WHERE backfill AND state IN ('synced', 'failed'))::int AS done
         FROM sync_record WHERE account_id = $1 AND connection_id = $2`,
      [accountId, connectionId],
    )) as { pending: number; synced: number; failed: number; parked: number; total: number; done: number }[];
    return {
      counts: { pending: r?.pending ?? 0, synced: r?.synced ?? 0, failed: r?.failed ?? 0, parked: r?.parked ?? 0 },
      backfill: { total: r?.total ?? 0, done: r?.done ?? 0 },
    };
  }
}
