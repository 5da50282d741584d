import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { ContractorSnapshot, InteractionSnapshot, PaymentSnapshot, PaymentType } from '@papka/contracts';
import { upsertVersioned } from '@papka/persistence';
import type { ContractorData } from '../connectors';
import { contractorData } from './content-hash';

export interface InteractionRow {
  id: string;
  contractorId: string;
  name: string;
  /** Kopecks. */
  sum: number;
  deleted: boolean;
}

export interface PaymentRow {
  id: string;
  interactionId: string;
  type: PaymentType;
  name: string;
  sum: number;
  date: string;
  removed: boolean;
}

/**
 * The read models finance-sync works from (contractors, interactions, payments, from their
 * events), so a backfill and every retry need no other service. Every write is versioned by
 * the event's aggregate sequence.
 */
@Injectable()
export class ReplicasRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  upsertContractor(m: EntityManager, accountId: string, snapshot: ContractorSnapshot, version: number, deleted: boolean): Promise<boolean> {
    const c = contractorData(snapshot);
    return upsertVersioned(
      m,
      'contractor_replica',
      { id: c.id, account_id: accountId, name: c.name, inn: c.inn, kpp: c.kpp, address: c.address, bank_accounts: JSON.stringify(c.banks), deleted, version },
      { conflict: ['id'], guard: `contractor_replica.account_id = excluded.account_id` },
    );
  }

  upsertInteraction(m: EntityManager, accountId: string, i: InteractionSnapshot, version: number, deleted: boolean): Promise<boolean> {
    return upsertVersioned(
      m,
      'interaction_replica',
      { id: i.uuid, account_id: accountId, contractor_id: i.contractorId, name: i.name, sum: i.sum, deleted, version },
      { conflict: ['id'], guard: `interaction_replica.account_id = excluded.account_id` },
    );
  }

  /** A payment is recorded once and removed once; `removed` stays (a late `recorded` cannot bring it back). */
  upsertPayment(m: EntityManager, accountId: string, interactionId: string, p: PaymentSnapshot, version: number, removed: boolean): Promise<boolean> {
    return upsertVersioned(
      m,
      'payment_replica',
      { id: p.uuid, account_id: accountId, interaction_id: interactionId, type: p.type, name: p.name, sum: p.sum, date: p.date, removed, version },
      { conflict: ['id'], guard: `payment_replica.account_id = excluded.account_id AND NOT payment_replica.removed` },
    );
  }

  async contractor(accountId: string, id: string): Promise<ContractorData | null> {
    const [r] = (await this.ds.query(`SELECT id, name, inn, kpp, address, bank_accounts FROM contractor_replica WHERE id = $1 AND account_id = $2`, [id, accountId])) as {
      id: string;
      name: string;
      inn: string | null;
      kpp: string | null;
      address: string | null;
      bank_accounts: ContractorData['banks'];
    }[];
    return r ? { id: r.id, name: r.name, inn: r.inn, kpp: r.kpp, address: r.address, banks: r.bank_accounts } : null;
  }

  async interaction(accountId: string, id: string): Promise<InteractionRow | null> {
    const [r] = (await this.ds.query(`SELECT id, contractor_id, name, sum, deleted FROM interaction_replica WHERE id = $1 AND account_id = $2`, [id, accountId])) as {
      id: string;
      contractor_id: string;
      name: string;
      sum: string;
      deleted: boolean;
    }[];
    return r ? { id: r.id, contractorId: r.contractor_id, name: r.name, sum: Number(r.sum), deleted: r.deleted } : null;
  }

  async payments(accountId: string, ids: string[]): Promise<Map<string, PaymentRow>> {
    if (ids.length === 0) return new Map();
    const rows = (await this.ds.query(
      `SELECT id, interaction_id, type, name, sum, date::text AS date, removed FROM payment_replica WHERE id = ANY($1::uuid[]) AND account_id = $2`,
      [ids, accountId],
    )) as { id: string; interaction_id: string; type: PaymentType; name: string; sum: string; date: string; removed: boolean }[];
    return new Map(rows.map((r) => [r.id, { id: r.id, interactionId: r.interaction_id, type: r.type, name: r.name, sum: Number(r.sum), date: r.date, removed: r.removed }]));
  }

  /** Live payments of the account dated within [from, to] (reconciliation). */
  async paymentsBetween(accountId: string, from: string, to: string): Promise<PaymentRow[]> {
    const rows = (await this.ds.query(
      `SELECT id, interaction_id, type, name, sum, date::text AS date, removed FROM payment_replica
        WHERE account_id = $1 AND date BETWEEN $2 AND $3 AND NOT removed ORDER BY date, id`,
      [accountId, from, to],
    )) as { id: string; interaction_id: string; type: PaymentType; name: string; sum: string; date: string; removed: boolean }[];
    return rows.map((r) => ({ id: r.id, interactionId: r.interaction_id, type: r.type, name: r.name, sum: Number(r.sum), date: r.date, removed: r.removed }));
  }
}
