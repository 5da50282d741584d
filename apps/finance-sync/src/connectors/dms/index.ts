import type { ConnectorDefinition } from '../connector';
import { DmsConnector, parseDmsSettings } from './dms.connector';

/** The document-management system (003): rendered documents with their PDF, and invoice payments. */
export const dms: ConnectorDefinition = {
  target: 'dms',
  entities: ['document', 'payment'],
  parseSettings: parseDmsSettings,
  // 003's invoice-payment call goes with the payment that pays the invoice in full only.
  paymentsDependOnSiblings: true,
  // A paid invoice is sent with its payment fields: an update after the payment keeps it paid.
  documentsWithPayment: true,
  create: (o) => new DmsConnector(o),
};
