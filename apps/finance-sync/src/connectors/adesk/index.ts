import type { ConnectorDefinition } from '../connector';
import { AdeskConnector, parseAdeskSettings } from './adesk.connector';

/** Adesk (002): contractors (with requisites), interactions as deals, payments as transactions. */
export const adesk: ConnectorDefinition = {
  target: 'adesk',
  entities: ['contractor', 'interaction', 'payment'],
  parseSettings: parseAdeskSettings,
  create: (o) => new AdeskConnector(o.urls.adesk, o),
};
