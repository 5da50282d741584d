import { createHash } from 'node:crypto';
import type { ContractorSnapshot } from '@papka/contracts';
import type { ContractorData } from '../connectors';

/**
 * A hash of what the connectors send of an entity, computed the same way from an event and from
 * the read model: the event's tells whether anything changed (a re-announce queues nothing), the
 * worker's records what the target got (a later difference means "update it").
 */
const hash = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 32);

export const contractorData = (c: ContractorSnapshot): ContractorData => {
  const kpp = (c.fullInfo as { data?: { kpp?: unknown } } | null)?.data?.kpp;
  return {
    id: c.uuid,
    name: c.mainInfo.name,
    inn: c.mainInfo.inn,
    kpp: typeof kpp === 'string' && kpp ? kpp : null,
    address: c.mainInfo.address,
    banks: (c.bankInfo ?? []).map((b) => ({ uuid: b.id, bik: b.bik, number: b.number, name: b.name })),
  };
};

export const contractorHash = (c: ContractorData): string => hash([c.name, c.inn, c.kpp, c.address, c.banks.map((b) => [b.uuid, b.bik, b.number, b.name])]);

export const interactionHash = (i: { name: string; sum: number; contractorId: string }): string => hash([i.name, i.sum, i.contractorId]);
