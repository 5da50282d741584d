import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ContractorAnnounced,
  ContractorCreated,
  ContractorDeleted,
  ContractorUpdated,
  OrganizationUpdated,
  type ContractorSnapshot,
  type EventEnvelope,
  type OrganizationSnapshot,
} from '@papka/contracts';
import type { EventContext } from '@papka/messaging';

/**
 * Keeps the contractor and organisation replicas from contractor events (event-carried state
 * transfer: documents never calls the contractors service). Each write is guarded by the
 * event time, so a late, older event cannot overwrite a newer state; replays are no-ops.
 */
@Controller()
export class ReplicasEvents {
  @EventPattern(ContractorCreated.type)
  onCreated(@Payload() e: EventEnvelope<ContractorSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertContractor(e, ctx, false);
  }

  @EventPattern(ContractorUpdated.type)
  onUpdated(@Payload() e: EventEnvelope<ContractorSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertContractor(e, ctx, false);
  }

  @EventPattern(ContractorAnnounced.type)
  onAnnounced(@Payload() e: EventEnvelope<ContractorSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertContractor(e, ctx, false);
  }

  @EventPattern(ContractorDeleted.type)
  onDeleted(@Payload() e: EventEnvelope<ContractorSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertContractor(e, ctx, true);
  }

  @EventPattern(OrganizationUpdated.type)
  async onOrganization(@Payload() e: EventEnvelope<OrganizationSnapshot>, @Ctx() ctx: EventContext) {
    await ctx.manager.query(
      `INSERT INTO organization_replica (account_id, snapshot, version) VALUES ($1, $2, $3)
       ON CONFLICT (account_id) DO UPDATE SET snapshot = excluded.snapshot, version = excluded.version
       WHERE organization_replica.version <= excluded.version`,
      [e.accountId, JSON.stringify(e.data), e.occurredAt],
    );
  }

  private async upsertContractor(e: EventEnvelope<ContractorSnapshot>, ctx: EventContext, deleted: boolean) {
    const c = e.data;
    await ctx.manager.query(
      `INSERT INTO contractor_replica (id, account_id, name, inn, address, snapshot, deleted, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, inn = excluded.inn, address = excluded.address,
         snapshot = excluded.snapshot, deleted = excluded.deleted, version = excluded.version
       WHERE contractor_replica.version <= excluded.version`,
      [c.uuid, e.accountId, c.mainInfo.name, c.mainInfo.inn, c.mainInfo.address, JSON.stringify(c), deleted, e.occurredAt],
    );
  }
}
