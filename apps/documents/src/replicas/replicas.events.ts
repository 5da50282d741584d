import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ContractorAnnounced, ContractorCreated, ContractorDeleted, ContractorUpdated, OrganizationUpdated, type EnvelopeOf } from '@papka/contracts';
import type { EventContext } from '@papka/messaging';
import { ReplicasRepository } from './replicas.repository';

/**
 * Keeps the contractor and organisation replicas from contractor events (event-carried state
 * transfer: documents never calls the contractors service). Each write is guarded by the
 * event time, so a late, older event cannot overwrite a newer state; replays are no-ops.
 */
@Controller()
export class ReplicasEvents {
  constructor(private readonly replicas: ReplicasRepository) {}

  @EventPattern([ContractorCreated.type, ContractorUpdated.type, ContractorAnnounced.type])
  async onContractor(
    @Payload() e: EnvelopeOf<typeof ContractorCreated | typeof ContractorUpdated | typeof ContractorAnnounced>,
    @Ctx() ctx: EventContext,
  ): Promise<void> {
    await this.replicas.upsertContractor(ctx.manager, e.accountId, e.data, e.sequence ?? 0, false);
  }

  /** The row stays (flagged), so documents keep the last known name. */
  @EventPattern(ContractorDeleted.type)
  async onContractorDeleted(@Payload() e: EnvelopeOf<typeof ContractorDeleted>, @Ctx() ctx: EventContext): Promise<void> {
    await this.replicas.upsertContractor(ctx.manager, e.accountId, e.data, e.sequence ?? 0, true);
  }

  @EventPattern(OrganizationUpdated.type)
  async onOrganization(@Payload() e: EnvelopeOf<typeof OrganizationUpdated>, @Ctx() ctx: EventContext): Promise<void> {
    await this.replicas.upsertOrganization(ctx.manager, e.accountId, e.data, e.sequence ?? 0);
  }
}
