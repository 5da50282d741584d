import type { ConnectorDefinition } from '../connector';
import { MoyskladConnector, parseMoyskladSettings } from './moysklad.connector';

/** MoySklad (004, JSON API 1.2): contractors as counterparties, invoices as invoiceout, payments as paymentin/paymentout. */
export const moysklad: ConnectorDefinition = {
  target: 'moysklad',
  entities: ['contractor', 'document', 'payment'],
  parseSettings: parseMoyskladSettings,
  create: (o) => new MoyskladConnector(o.urls.moysklad, o),
};
