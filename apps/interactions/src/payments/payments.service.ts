import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AccountContext } from '@papka/auth';
import {
  InteractionPaymentRecorded,
  InteractionPaymentRemoved,
  type RecordPaymentDto,
} from '@papka/contracts';
import { Commands, waitForReplica } from '@papka/messaging';
import { ConflictError, fieldError, Idempotency, NotFoundError, type Created } from '@papka/platform';
import { rublesToKopecks } from '@papka/ru';
import { CONFIG, type InteractionsConfig } from '../config';
import { ReplicasRepository, type BankAccount } from '../replicas/replicas.repository';
import { PaymentsRepository } from './payments.repository';

/** Income minus outcome of one interaction, at most (kopecks): 10 trillion rubles, far inside JavaScript's exact integers. */
const MAX_PAID_KOPECKS = 1e15;

/**
 * Payments of an interaction; each travels in its own event beside the interaction's new totals
 * (the snapshot has `paymentsCount`, `paidSum`, `balance`, never the payments themselves).
 */
@Injectable()
export class PaymentsService {
  constructor(
    private readonly repo: PaymentsRepository,
    private readonly replicas: ReplicasRepository,
    private readonly commands: Commands,
    private readonly idempotency: Idempotency,
    @Inject(CONFIG) private readonly config: InteractionsConfig,
  ) {}

  async record(acc: AccountContext, id: string, dto: RecordPaymentDto, key?: string): Promise<Created> {
    // A bank account added to the contractor a moment ago reaches this read model a little
    // later: waited for (outside the transaction) before the check below refuses it as a 400.
    if (dto.contractorBank) {
      const ref = dto.contractorBank;
      await waitForReplica(async () => (await this.replicas.interactionContractorHasBank(acc.accountId, id, ref)) !== false, this.config.REPLICA_WAIT_MS);
    }
    // The key first, the interaction's lock and checks only for a new one: a retry of a payment
    // that was recorded gets its first answer back even when the interaction is gone since.
    return this.commands.run(acc.accountId, (t) =>
      this.idempotency.run(t.manager, acc.accountId, key, { op: 'payment', id, dto }, async () => {
        const row = await this.repo.lock(t.manager, acc.accountId, id);
        if (!row) throw new NotFoundError('interaction');
        const paymentId = randomUUID();
        const sum = rublesToKopecks(dto.sum);
        const paidSum = row.paidSum + (dto.type === 'income' ? sum : -sum);
        // Totals past this could not be told exactly in JSON (or in an event) any more.
        if (Math.abs(paidSum) > MAX_PAID_KOPECKS) throw fieldError('sum', `sum would take the interaction's payments past ${MAX_PAID_KOPECKS / 100} rubles in all`);
        const contractorBank = await this.contractorBank(t.manager, acc.accountId, row.contractorId, dto.contractorBank ?? null);
        const payment = await this.repo.insert(t.manager, acc.accountId, id, {
          id: paymentId,
          type: dto.type,
          name: dto.name,
          sum,
          date: dto.date.slice(0, 10),
          contractorBank,
        });
        if (!payment) throw new NotFoundError('interaction');
        await t.emit(InteractionPaymentRecorded, id, { ...(await this.repo.snapshot(t.manager, acc.accountId, id)), payment });
        return paymentId;
      }),
    );
  }

  async remove(acc: AccountContext, id: string, paymentId: string): Promise<void> {
    await this.commands.run(acc.accountId, async (t) => {
      const row = await this.repo.lock(t.manager, acc.accountId, id);
      if (!row) throw new NotFoundError('interaction');
      const payment = await this.repo.delete(t.manager, acc.accountId, id, paymentId);
      if (!payment) throw new NotFoundError('payment');
      // Removing an outcome raises the total as recording an income does: the same bound (the
      // transaction, the removal with it, is rolled back).
      const paidSum = row.paidSum - (payment.type === 'income' ? payment.sum : -payment.sum);
      if (Math.abs(paidSum) > MAX_PAID_KOPECKS) {
        throw new ConflictError('TOTALS_OUT_OF_RANGE', `removing this payment would take the interaction's payments past ${MAX_PAID_KOPECKS / 100} rubles in all`);
      }
      await t.emit(InteractionPaymentRemoved, id, { ...(await this.repo.snapshot(t.manager, acc.accountId, id)), payment });
    });
  }

  /** One of the interaction contractor's bank accounts, by its uuid or number; null/'' for none. */
  private async contractorBank(m: EntityManager, accountId: string, contractorId: string, ref: string | null): Promise<BankAccount | null> {
    if (ref === null || ref === '') return null;
    const banks = await this.replicas.contractorBankAccounts(m, accountId, contractorId);
    const bank = banks?.find((b) => b.uuid === ref || b.number === ref);
    if (!bank) throw fieldError('contractorBank', "contractorBank must be one of the interaction contractor's bank accounts (its uuid or number) or null");
    return bank;
  }
}
