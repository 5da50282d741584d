import type { FinanceTarget } from '@papka/contracts';
import { adesk } from './adesk';
import { moysklad } from './moysklad';
import { dms } from './dms';
import { billing } from './billing';
import type { ConnectorDefinition, EntityType } from './connector';

export * from './connector';

/**
 * Every connector, one line each: a connector folder exports its ConnectorDefinition and is
 * listed here. Nothing else in the engine names a target.
 */
export const CONNECTORS: readonly ConnectorDefinition[] = [adesk, moysklad, dms, billing];

/** The targets that have a connector; the other known targets answer 404 until they get one. */
export const CONNECTED_TARGETS: readonly FinanceTarget[] = CONNECTORS.map((d) => d.target);

export function definitionOf(target: FinanceTarget): ConnectorDefinition {
  const d = CONNECTORS.find((x) => x.target === target);
  if (!d) throw new Error(`no connector for ${target}`);
  return d;
}

/** The targets whose connections take entities of this type (records are queued only for them). */
export const targetsTaking = (type: EntityType): FinanceTarget[] => CONNECTORS.filter((d) => d.entities.includes(type)).map((d) => d.target);

/** The targets whose payments are asked again when another payment of their interaction changes (`paymentsDependOnSiblings`). */
export const targetsWithSiblingPayments = (): FinanceTarget[] => CONNECTORS.filter((d) => d.paymentsDependOnSiblings).map((d) => d.target);

/** The targets whose documents carry the payment that pays them in full (`documentsWithPayment`). */
export const targetsWithDocumentPayment = (): FinanceTarget[] => CONNECTORS.filter((d) => d.documentsWithPayment).map((d) => d.target);
