import { createHash } from 'node:crypto';
import type { ContractorSnapshot } from '@papka/contracts';
import type { ContractorData, DocumentData } from '../connectors';

/**
 * A hash of what the connectors send of an entity, computed the same way from an event and from
 * the read model: the event's tells whether anything changed (a re-announce queues nothing), the
 * worker's records what the target got (a later difference means "update it").
 */
const hash = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 32);

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v : null);

export const contractorData = (c: ContractorSnapshot): ContractorData => {
  const data = (c.fullInfo as { data?: Record<string, unknown> } | null)?.data ?? {};
  const name = data.name as { full_with_opf?: unknown } | undefined;
  const address = data.address as { value?: unknown } | undefined;
  return {
    id: c.uuid,
    type: Number(c.type) || 2,
    name: c.mainInfo.name,
    inn: c.mainInfo.inn,
    kpp: str(data.kpp),
    address: c.mainInfo.address,
    ogrn: str(data.ogrn),
    legalName: str(name?.full_with_opf),
    legalAddress: str(address?.value),
    banks: (c.bankInfo ?? []).map((b) => ({ uuid: b.id, bik: b.bik, number: b.number, name: b.name })),
  };
};

/**
 * What Adesk sends first (so a contractor synced before the MoySklad fields existed keeps its
 * hash), then the fields other targets send, only when there are any.
 */
export const contractorHash = (c: ContractorData): string => {
  const base: unknown[] = [c.name, c.inn, c.kpp, c.address, c.banks.map((b) => [b.uuid, b.bik, b.number, b.name])];
  const more = [c.type === 2 ? null : c.type, c.ogrn, c.legalName, c.legalAddress];
  return hash(more.some((x) => x !== null) ? [...base, more] : base);
};

export const interactionHash = (i: { name: string; sum: number; contractorId: string }): string => hash([i.name, i.sum, i.contractorId]);

/**
 * Everything a connector sends of a document, its links included (attaching it to a deal changes
 * it), the seller when the account has one (a renamed organisation changes it; without one
 * the hash is what it was before the organisation was part of it, so nothing is re-sent for that),
 * and the payment that pays it in full when there is one (for the targets that are given it,
 * `documentsWithPayment`; an unpaid document's hash is what it was before, likewise).
 */
export const documentHash = (d: Omit<DocumentData, 'contentHash' | 'contractor' | 'payment'> & { contractorId: string | null; payment?: DocumentData['payment'] }): string => {
  const base: unknown[] = [d.type, d.templateId, d.name, d.sum, d.masks, d.createdAt, d.status, d.renderState, d.storageKey, d.filename, d.contentType, d.contractorId, d.interactionId, d.contractDocumentId];
  const o = d.organization;
  const withSeller = o ? [...base, [o.name, o.inn, o.kpp]] : base;
  const p = d.payment;
  // The seller's place is kept (null) when there is none, so the two never read as each other.
  return hash(p ? [...base, o ? [o.name, o.inn, o.kpp] : null, [p.id, p.name, p.date]] : withSeller);
};
