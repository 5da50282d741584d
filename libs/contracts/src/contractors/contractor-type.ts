/**
 * Contractor type, an integer as in the public API (`"type": 1` for an ИП in the reference).
 * 1 individual entrepreneur (ИП, 12-digit INN), 2 legal entity (10-digit INN),
 * 3 natural person (optional 12-digit INN).
 */
export enum ContractorType {
  IndividualEntrepreneur = 1,
  LegalEntity = 2,
  Person = 3,
}

export const innLengthFor = (type: ContractorType): number =>
  type === ContractorType.LegalEntity ? 10 : 12;
