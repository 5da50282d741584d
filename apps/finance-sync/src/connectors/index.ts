import type { FinanceTarget } from '@papka/contracts';
import { AdeskConnector } from './adesk/adesk.connector';
import type { Connector, ConnectorFactoryOptions } from './connector';

export * from './connector';

export interface ConnectorUrls {
  adesk: string;
}

/** The targets that have a connector; the others are known targets still to come (404 until then). */
export const CONNECTED_TARGETS: readonly FinanceTarget[] = ['adesk'];

export function createConnector(target: FinanceTarget, urls: ConnectorUrls, o: ConnectorFactoryOptions & { batchSize: number }): Connector {
  switch (target) {
    case 'adesk':
      return new AdeskConnector(urls.adesk, o);
    case 'moysklad':
    case 'dms':
    case 'billing':
      throw new Error(`no connector for ${target} yet`);
  }
}
