import { Topics } from '../../topics';
import { defineEvent } from '../envelope';
import type { ContractorSnapshot } from './contractor-snapshot';

/** A contractor was created. data: the full snapshot. */
export const ContractorCreated = defineEvent<ContractorSnapshot, 'contractor.created'>('contractor.created', 1, Topics.contractors);
/** Anything about a contractor changed (bank accounts, contacts, looked-up details). */
export const ContractorUpdated = defineEvent<ContractorSnapshot, 'contractor.updated'>('contractor.updated', 1, Topics.contractors);
/** A contractor was deleted. data: the last snapshot, so replicas keep the last known name. */
export const ContractorDeleted = defineEvent<ContractorSnapshot, 'contractor.deleted'>('contractor.deleted', 1, Topics.contractors);
/**
 * The current state re-announced, nothing changed (an operator's `announce` after a read model
 * was lost, or embedded mode catching a new service up). Consumers treat it as an upsert.
 */
export const ContractorAnnounced = defineEvent<ContractorSnapshot, 'contractor.snapshot'>('contractor.snapshot', 1, Topics.contractors);

export const ContractorEvents = [ContractorCreated, ContractorUpdated, ContractorDeleted] as const;
