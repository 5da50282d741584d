import { ConflictError } from '@papka/platform';

/**
 * 409 for a bank account or contact above the contractor's limit (MAX_BANK_ACCOUNTS_PER_CONTRACTOR,
 * MAX_CONTACTS_PER_CONTRACTOR in @papka/contracts), naming the field that is full: every event
 * carries the whole contractor, so it must stay bounded.
 */
export class ContractorLimitReachedError extends ConflictError {
  constructor(field: 'bankInfo' | 'contactInfo', limit: number) {
    const what = field === 'bankInfo' ? 'bank accounts' : 'contacts';
    const message = `a contractor has at most ${limit} ${what}; remove one before adding another`;
    super('CONTRACTOR_LIMIT_REACHED', message, { [field]: [message] });
  }
}
