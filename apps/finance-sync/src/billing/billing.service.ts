import { Injectable } from '@nestjs/common';
import type { AccountContext } from '@papka/auth';
import type { BillingDocumentSnapshot } from '@papka/contracts';
import { fieldError, NotFoundError } from '@papka/platform';
import { billingMoment } from '../connectors/billing/billing.mapper';
import { ConnectionsRepository } from '../connections/connections.repository';
import type { BillingDocumentsQuery, BillingImportAccepted, BillingImportView, BillingRejectedQuery, BillingRejectedView } from './billing.dto';
import { BillingImporter } from './billing.importer';
import { BillingRepository } from './billing.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `2026-12-01` or `2026-12-01T10:00:00` (Moscow time) as a moment; a bare `to` day means its last second. */
function moment(v: string | undefined, end: boolean): Date | undefined {
  if (v === undefined) return undefined;
  const full = v.length === 10 ? `${v} ${end ? '23:59:59' : '00:00:00'}` : v;
  return billingMoment(full);
}

@Injectable()
export class BillingService {
  constructor(
    private readonly repo: BillingRepository,
    private readonly connections: ConnectionsRepository,
    private readonly importer: BillingImporter,
  ) {}

  /** An import now (or the connection's unfinished one): 404 when the account has no billing connection. */
  async requestImport(acc: AccountContext): Promise<BillingImportAccepted> {
    const c = await this.connections.get(acc.accountId, 'billing');
    if (!c || !c.connected) throw new NotFoundError('connection');
    return { status: 'OK', importId: await this.importer.request(acc.accountId, c.id) };
  }

  async getImport(acc: AccountContext, id: string): Promise<BillingImportView> {
    if (!UUID.test(id)) throw fieldError('id', 'id must be a UUID');
    const r = await this.repo.getImport(acc.accountId, id);
    if (!r) throw new NotFoundError('import');
    return {
      id: r.id,
      state: r.state,
      pages: r.pages,
      documents: r.documents,
      rejected: r.rejected,
      error: r.error,
      startedAt: r.startedAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
    };
  }

  /** The documents the import set aside (it could not map them), most recently seen first. */
  listRejected(acc: AccountContext, q: BillingRejectedQuery): Promise<BillingRejectedView[]> {
    return this.repo.listRejected(acc.accountId, q.page ?? 1, q.size ?? 50);
  }

  list(acc: AccountContext, q: BillingDocumentsQuery): Promise<BillingDocumentSnapshot[]> {
    const from = moment(q.from, false);
    const to = moment(q.to, true);
    if (from && Number.isNaN(from.getTime())) throw fieldError('from', 'from must be a real date');
    if (to && Number.isNaN(to.getTime())) throw fieldError('to', 'to must be a real date');
    if (from && to && from > to) throw fieldError('from', 'from must not be after to');
    return this.repo.list(acc.accountId, { type: q.type, status: q.status, from, to, page: q.page ?? 1, size: q.size ?? 50 });
  }
}
