import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { InteractionPaymentImportRequested, InteractionPaymentRecorded, InteractionPaymentRemoved, InteractionPaymentRemoveRequested, type EnvelopeOf } from '@papka/contracts';
import type { EventContext } from '@papka/messaging';
import { PaymentImportsRepository } from './payment-imports.repository';
import { PaymentsRepository } from './payments.repository';

/** The payments schema allows 500 characters of purpose; a target's description may be longer. */
const NAME_MAX = 500;

/**
 * Commands from finance-sync (papka.finance.v1): a transaction made in the finance target on a
 * mapped deal becomes a payment of the interaction, once per (source, external id), with the
 * id finance-sync chose (it has mapped that id to the remote object already, so the payment is
 * not pushed back); a deleted one removes it, in whichever order the two are handled. An
 * interaction that is gone ignores both.
 */
@Controller()
export class PaymentImportsEvents {
  private readonly logger = new Logger(PaymentImportsEvents.name);

  constructor(
    private readonly payments: PaymentsRepository,
    private readonly imports: PaymentImportsRepository,
  ) {}

  @EventPattern([InteractionPaymentImportRequested.type, InteractionPaymentRemoveRequested.type])
  async onCommand(@Payload() e: EnvelopeOf<typeof InteractionPaymentImportRequested | typeof InteractionPaymentRemoveRequested>, @Ctx() ctx: EventContext): Promise<void> {
    const d = e.data;
    if (!(await this.payments.lock(ctx.manager, e.accountId, d.interactionId))) {
      this.logger.warn(`${e.type} for unknown interaction ${d.interactionId}: ignored`);
      return;
    }
    if (e.type === InteractionPaymentImportRequested.type) {
      const p = e.data;
      if (!(await this.imports.claim(ctx.manager, e.accountId, p.source, p.externalId, p.paymentId, p.interactionId))) return;
      const payment = await this.payments.insert(ctx.manager, e.accountId, p.interactionId, {
        id: p.paymentId,
        type: p.type,
        name: p.name.slice(0, NAME_MAX),
        sum: p.sum,
        date: p.date,
        contractorBank: null,
      });
      if (!payment) return;
      await ctx.emit(InteractionPaymentRecorded, p.interactionId, { ...(await this.payments.snapshot(ctx.manager, e.accountId, p.interactionId)), payment });
      return;
    }
    // The remote id is claimed here too: an import of it handled after this removal (retried
    // after a failure, replayed from the DLQ) finds it taken and records nothing, so the removed
    // payment does not come back. Claimed by its import already: only the payment goes.
    await this.imports.claim(ctx.manager, e.accountId, d.source, d.externalId, d.paymentId, d.interactionId);
    const payment = await this.payments.delete(ctx.manager, e.accountId, d.interactionId, d.paymentId);
    if (!payment) return;
    await ctx.emit(InteractionPaymentRemoved, d.interactionId, { ...(await this.payments.snapshot(ctx.manager, e.accountId, d.interactionId)), payment });
  }
}
