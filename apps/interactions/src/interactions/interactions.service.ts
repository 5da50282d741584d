import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AccountContext } from '@papka/auth';
import {
  canMoveInteraction,
  DESCRIPTION_MAX_CHARS,
  INTERACTION_STATUS_NAMES,
  INTERACTION_TRANSITIONS,
  InteractionCreated,
  InteractionDeleted,
  InteractionStatusChanged,
  InteractionUpdated,
  toWindow,
  type CreateInteractionDto,
  type InteractionStatus,
  type InteractionView,
  type ListInteractionsQuery,
  type UpdateInteractionDto,
} from '@papka/contracts';
import { Commands, type CommandTx, waitForReplica } from '@papka/messaging';
import { fieldError, Idempotency, InvalidStatusTransitionError, NotFoundError, type Created } from '@papka/platform';
import { rublesToKopecks } from '@papka/ru';
import { CONFIG, type InteractionsConfig } from '../config';
import { ReplicasRepository } from '../replicas/replicas.repository';
import { InteractionsRepository, type LockedInteraction } from './interactions.repository';
import { sanitizeDescription } from './sanitize-description';

/** The interaction itself: create, list, read, rename, describe, move its status, delete. */
@Injectable()
export class InteractionsService {
  constructor(
    private readonly repo: InteractionsRepository,
    private readonly replicas: ReplicasRepository,
    private readonly commands: Commands,
    private readonly idempotency: Idempotency,
    @Inject(CONFIG) private readonly config: InteractionsConfig,
  ) {}

  list(acc: AccountContext, q: ListInteractionsQuery): Promise<InteractionView[]> {
    return this.repo.list(acc.accountId, { contractorId: q.contractor, status: q.status, from: q.from, to: q.to }, toWindow(q));
  }

  /** A deleted contractor's interactions stay readable; an unknown contractor is a 404. */
  async listForContractor(acc: AccountContext, contractorId: string, q: ListInteractionsQuery): Promise<InteractionView[]> {
    // One created a moment ago may not be in the read model yet (see create).
    if (!(await waitForReplica(() => this.replicas.contractorKnown(acc.accountId, contractorId), this.config.REPLICA_WAIT_MS))) throw new NotFoundError('contractor');
    return this.list(acc, { ...q, contractor: contractorId });
  }

  async get(acc: AccountContext, id: string): Promise<InteractionView> {
    const view = await this.repo.view(acc.accountId, id);
    if (!view) throw new NotFoundError('interaction');
    return view;
  }

  /**
   * The contractor is refused (404) only inside `idempotency.run`, once the key is known to be
   * new: a retry of a create that succeeded gets its first answer back even when the contractor
   * has been deleted since.
   */
  async create(acc: AccountContext, dto: CreateInteractionDto, key?: string): Promise<Created> {
    // A contractor created a moment ago may not be in the read model yet: waited for outside the
    // transaction. A deleted one is known at once (its replica stays as a tombstone), no wait.
    const known = await waitForReplica(() => this.replicas.contractorKnown(acc.accountId, dto.contractor), this.config.REPLICA_WAIT_MS);
    const live = known && (await this.replicas.contractorLive(acc.accountId, dto.contractor));
    return this.commands.run(acc.accountId, (t) =>
      this.idempotency.run(t.manager, acc.accountId, key, { op: 'create', dto }, async () => {
        if (!live) throw new NotFoundError('contractor');
        const id = randomUUID();
        await this.repo.insert(t.manager, acc.accountId, { id, contractorId: dto.contractor, name: dto.name, sum: rublesToKopecks(dto.sum) });
        await t.emit(InteractionCreated, id, await this.repo.snapshot(t.manager, acc.accountId, id));
        return id;
      }),
    );
  }

  /** Name and/or sum; an `interaction.updated` when something changed. */
  async update(acc: AccountContext, id: string, dto: UpdateInteractionDto): Promise<void> {
    if (dto.name === undefined && dto.sum === undefined) throw fieldError('name', 'give name or sum (or both)');
    const change = { name: dto.name ?? null, sum: dto.sum === undefined ? null : rublesToKopecks(dto.sum) };
    await this.change(acc, id, async (t) => {
      if (await this.repo.update(t.manager, acc.accountId, id, change)) await this.emitUpdated(t, id);
    });
  }

  async setDescription(acc: AccountContext, id: string, html: string): Promise<void> {
    const description = sanitizeDescription(html);
    // The cap holds for what is stored, not only for what was sent: sanitizing adds target and rel to every link.
    if (description.length > DESCRIPTION_MAX_CHARS) {
      throw fieldError('description', `description must be at most ${DESCRIPTION_MAX_CHARS} characters as stored (sanitized, links get target and rel); this one is ${description.length}`);
    }
    await this.change(acc, id, async (t) => {
      if (await this.repo.setDescription(t.manager, acc.accountId, id, description)) await this.emitUpdated(t, id);
    });
  }

  /** Moves the status along INTERACTION_TRANSITIONS; the same status again is a no-op. */
  async setStatus(acc: AccountContext, id: string, status: InteractionStatus): Promise<void> {
    await this.change(acc, id, async (t, row) => {
      const from = row.status;
      if (from === status) return;
      if (!canMoveInteraction(from, status)) {
        const allowed = INTERACTION_TRANSITIONS[from].map((s) => `${s} (${INTERACTION_STATUS_NAMES[s]})`).join(', ');
        throw new InvalidStatusTransitionError(
          `status cannot go from ${from} (${INTERACTION_STATUS_NAMES[from]}) to ${status} (${INTERACTION_STATUS_NAMES[status]}); allowed: ${allowed}`,
        );
      }
      await this.repo.setStatus(t.manager, acc.accountId, id, status);
      await t.emit(InteractionStatusChanged, id, { ...(await this.repo.snapshot(t.manager, acc.accountId, id)), previousStatus: from });
    });
  }

  /** `interaction.deleted` carries the last snapshot. */
  async remove(acc: AccountContext, id: string): Promise<void> {
    await this.change(acc, id, async (t) => {
      const last = await this.repo.snapshot(t.manager, acc.accountId, id);
      await this.repo.delete(t.manager, acc.accountId, id);
      await t.emit(InteractionDeleted, id, last);
    });
  }

  /** One command on a locked interaction: 404 when it is absent or another account's. */
  private change(acc: AccountContext, id: string, fn: (t: CommandTx, row: LockedInteraction) => Promise<void>): Promise<void> {
    return this.commands.run(acc.accountId, async (t) => {
      const row = await this.repo.lock(t.manager, acc.accountId, id);
      if (!row) throw new NotFoundError('interaction');
      await fn(t, row);
    });
  }

  private async emitUpdated(t: CommandTx, id: string): Promise<void> {
    await t.emit(InteractionUpdated, id, await this.repo.snapshot(t.manager, t.accountId, id));
  }
}
