import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AccountContext } from '@papka/auth';
import { FINANCE_TARGETS, type ConnectionView, type FinanceTarget, type PauseReason, type PutConnectionDto } from '@papka/contracts';
import { Commands } from '@papka/messaging';
import { isUniqueViolation } from '@papka/persistence';
import { fieldError, InvalidCredentialsError, NotFoundError, TargetUnavailableError } from '@papka/platform';
import { CONFIG, type FinanceSyncConfig } from '../config';
import { CONNECTED_TARGETS, ConnectorError, definitionOf, InvalidSettings, type Settings } from '../connectors';
import { SyncRepository } from '../engine/sync.repository';
import { ConnectorPool } from './connector-pool';
import { ConnectionsRepository, type ConnectionRow } from './connections.repository';
import { TokenCipher } from './token-cipher';

/** A known target with a connector; anything else is a 404 (the next targets answer 404 until built). */
export function connectedTarget(target: string): FinanceTarget {
  if (!(FINANCE_TARGETS as readonly string[]).includes(target) || !CONNECTED_TARGETS.includes(target as FinanceTarget)) throw new NotFoundError('target');
  return target as FinanceTarget;
}

/** Another PUT stored this account's first connection to the target while this one checked. */
class ConnectionRaced extends Error {}

@Injectable()
export class ConnectionsService {
  private readonly logger = new Logger(ConnectionsService.name);

  constructor(
    private readonly repo: ConnectionsRepository,
    private readonly sync: SyncRepository,
    private readonly pool: ConnectorPool,
    private readonly cipher: TokenCipher,
    private readonly commands: Commands,
    @Inject(CONFIG) private readonly config: FinanceSyncConfig,
  ) {}

  /**
   * Checks the token with one cheap call before anything is stored, then stores the connection
   * (a new one queues the account's whole read model: the backfill) and registers the webhook.
   */
  async put(acc: AccountContext, rawTarget: string, dto: PutConnectionDto, origin: string): Promise<ConnectionView> {
    const target = connectedTarget(rawTarget);
    // Two first PUTs at once (a double click, a client's retry) both find no connection and make
    // up an id each; the token is sealed with the id, and the webhook URL names the hook token,
    // so the one that finds the other's row in its transaction (or meets it inserting) starts
    // again on that row (it was a 500, or a token sealed for another id: nothing synced).
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.putOnce(acc, target, dto, origin);
      } catch (err) {
        const raced = err instanceof ConnectionRaced || isUniqueViolation(err, 'uq_finance_connection_account_target');
        if (!raced || attempt === 3) throw err;
      }
    }
  }

  private async putOnce(acc: AccountContext, target: FinanceTarget, dto: PutConnectionDto, origin: string): Promise<ConnectionView> {
    const existing = await this.repo.get(acc.accountId, target);
    const id = existing?.id ?? randomUUID();
    const hookToken = existing?.hookToken ?? randomBytes(24).toString('base64url');
    let given: Settings;
    try {
      given = definitionOf(target).parseSettings?.({ ...(dto.settings ?? {}) }) ?? { ...(dto.settings ?? {}) };
    } catch (err) {
      if (err instanceof InvalidSettings) throw fieldError(err.field, err.message);
      throw err;
    }
    const connector = this.pool.build(target, id, dto.token, given);
    // Only a target with webhooks gets a URL (Adesk); the others answer webhookUrl null.
    const webhookUrl = connector.registerWebhook ? `${(this.config.FINANCE_PUBLIC_URL ?? origin).replace(/\/$/, '')}/v2/finance/webhooks/${target}/${hookToken}` : null;
    let settings: Settings;
    let paused: PauseReason | null = null;
    try {
      settings = await connector.check({ ...given });
      if (webhookUrl)
        await connector.registerWebhook?.(webhookUrl).catch((err: unknown) => {
          // Sync works without it; only target-side objects are then not imported.
          if (err instanceof ConnectorError && err.failure !== 'unavailable') this.logger.warn(`webhook not registered for ${target}: ${err.failure}`);
          else throw err;
        });
    } catch (err) {
      if (err instanceof InvalidSettings) throw fieldError(err.field, err.message);
      if (!(err instanceof ConnectorError)) throw err;
      switch (err.failure) {
        case 'unauthorized':
          throw new InvalidCredentialsError('token', `${target} refused the token`);
        case 'payment_required':
          // The token is good; the target's subscription lapsed. Stored paused: it resumes by itself.
          paused = 'payment_required';
          settings = { ...given };
          break;
        case 'rejected':
        case 'settings_refused':
          throw fieldError(err.method.startsWith('settings.') ? err.method : 'settings', err.message);
        case 'rate_limited':
        case 'unavailable':
        case 'outcome_unknown':
          throw new TargetUnavailableError(target);
      }
    } finally {
      await connector.close();
    }
    const tokenCipher = this.cipher.encrypt(dto.token, id);
    await this.commands.run(acc.accountId, async (t) => {
      const locked = await this.repo.lock(t.manager, acc.accountId, target);
      if (locked && locked.id !== id) throw new ConnectionRaced();
      const state = paused ? 'paused' : 'active';
      if (!locked) {
        await this.repo.insert(t.manager, { id, accountId: acc.accountId, target, tokenCipher, settings, hookToken, webhookUrl, state, reason: paused });
      } else {
        await this.repo.replace(t.manager, acc.accountId, id, { tokenCipher, settings, webhookUrl, state, reason: paused });
      }
      // New, or connected again after a DELETE: queue what is not synced yet (synced entities stay synced).
      if (!locked || !locked.connected) await this.sync.backfill(t.manager, acc.accountId, id, target);
    });
    this.logger.log(`${target} connected for account ${acc.accountId}${paused ? ` (paused: ${paused})` : ''}`);
    return this.view((await this.repo.get(acc.accountId, target))!);
  }

  async list(acc: AccountContext): Promise<ConnectionView[]> {
    const rows = await this.repo.list(acc.accountId);
    return Promise.all(rows.map((r) => this.view(r)));
  }

  async remove(acc: AccountContext, rawTarget: string): Promise<void> {
    const target = connectedTarget(rawTarget);
    await this.commands.run(acc.accountId, async (t) => {
      const c = await this.repo.lock(t.manager, acc.accountId, target);
      if (!c || !c.connected) throw new NotFoundError('connection');
      await this.repo.disconnect(t.manager, acc.accountId, c.id);
    });
  }

  private async view(c: ConnectionRow): Promise<ConnectionView> {
    const stats = await this.repo.stats(c.accountId, c.id);
    const backfilling = c.state === 'active' && stats.backfill.done < stats.backfill.total;
    return {
      target: c.target,
      state: c.state === 'paused' ? 'paused' : backfilling ? 'backfilling' : 'active',
      reason: c.state === 'paused' ? c.reason : null,
      settings: c.settings,
      webhookUrl: c.webhookUrl,
      counts: stats.counts,
      backfill: stats.backfill,
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
    };
  }
}
