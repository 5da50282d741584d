import type { ConnectorDefinition } from '../connector';
import { BillingConnector, parseBillingSettings } from './billing.connector';

export { BillingConnector } from './billing.connector';
export * from './billing.client';
export * from './billing.mapper';

/** The billing API (001): read-only; documents are pulled by the billing module, no entity is pushed. */
export const billing: ConnectorDefinition = {
  target: 'billing',
  entities: [],
  parseSettings: parseBillingSettings,
  create: (o) => new BillingConnector(o),
};
