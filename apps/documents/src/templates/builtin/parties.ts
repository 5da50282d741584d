import type { BankAccountSnapshot, ContractorSnapshot, OrganizationSnapshot, Suggestion } from '@papka/contracts';

/** A bank account as documents print it. */
export interface BankBlock {
  /** Bank name for payment documents ("ПАО СБЕРБАНК"). */
  name: string;
  bik: string;
  /** Settlement account (р/с). */
  account: string;
  /** Correspondent account (к/с), or null when the bank's look-up did not give one. */
  corrAccount: string | null;
  /** "г. Москва" */
  city: string | null;
}

/** A party's requisites as the templates see them; text fields are never undefined. */
export interface PartyBlock {
  /** False when the requisites are not filled in; `name` then says so. */
  filled: boolean;
  name: string;
  inn: string | null;
  kpp: string | null;
  ogrn: string | null;
  /** "ОГРН" or, for an entrepreneur (12-digit ИНН), "ОГРНИП". */
  ogrnLabel: string;
  address: string | null;
  phone: string | null;
  email: string | null;
  director: string | null;
  /** An individual entrepreneur (12-digit ИНН): signs alone, as "Индивидуальный предприниматель". */
  entrepreneur: boolean;
  /** "Иванов И. И." for signature lines. */
  directorShort: string | null;
  directorPost: string | null;
  bank: BankBlock | null;
  /** One line: name, ИНН, КПП, address, phone (the invoice's Поставщик/Покупатель line). */
  requisites: string;
}

export const ORGANIZATION_MISSING = 'Реквизиты организации не заполнены';
export const CONTRACTOR_MISSING = 'Реквизиты контрагента не заполнены';

export function organizationParty(org: OrganizationSnapshot | null): PartyBlock {
  if (!org) return emptyParty(ORGANIZATION_MISSING);
  const party = suggestionData(org.fullInfo);
  return partyBlock({
    name: org.name,
    inn: org.inn,
    kpp: org.kpp ?? str(party, 'kpp'),
    ogrn: org.ogrn ?? str(party, 'ogrn'),
    address: org.address ?? str(party, 'address', 'value'),
    phone: null,
    email: null,
    director: org.director ?? directorFromParty(party),
    // An ИП signs as such, ours as much as a contractor (DaData gives an ИП no management post).
    directorPost: org.directorPost ?? str(party, 'management', 'post') ?? (str(party, 'type') === 'INDIVIDUAL' || org.inn?.length === 12 ? 'Индивидуальный предприниматель' : null),
    bank: bankBlock(org.bankAccounts?.[0]),
  });
}

export function contractorParty(contractor: ContractorSnapshot | null): PartyBlock {
  if (!contractor) return emptyParty(CONTRACTOR_MISSING);
  const party = suggestionData(contractor.fullInfo);
  const contact = contractor.contactInfo?.[0];
  return partyBlock({
    name: contractor.mainInfo.name,
    inn: contractor.mainInfo.inn ?? str(party, 'inn'),
    kpp: str(party, 'kpp'),
    ogrn: str(party, 'ogrn'),
    address: contractor.mainInfo.address ?? str(party, 'address', 'value'),
    phone: contact?.phone ?? null,
    email: contact?.email ?? null,
    director: directorFromParty(party),
    directorPost: str(party, 'management', 'post') ?? (str(party, 'type') === 'INDIVIDUAL' ? 'Индивидуальный предприниматель' : null),
    bank: bankBlock(contractor.bankInfo?.[0]),
  });
}

type PartyFields = Omit<PartyBlock, 'filled' | 'ogrnLabel' | 'entrepreneur' | 'directorShort' | 'requisites'>;

function partyBlock(fields: PartyFields): PartyBlock {
  const name = clean(fields.name) ?? '';
  const inn = clean(fields.inn);
  const kpp = clean(fields.kpp);
  const address = clean(fields.address);
  const phone = clean(fields.phone);
  const director = clean(fields.director);
  const requisites = [
    name,
    inn && `ИНН ${inn}`,
    kpp && `КПП ${kpp}`,
    address,
    phone && `тел.: ${phone}`,
  ].filter(Boolean).join(', ');
  return {
    filled: true,
    name,
    inn,
    kpp,
    ogrn: clean(fields.ogrn),
    ogrnLabel: inn?.length === 12 ? 'ОГРНИП' : 'ОГРН',
    entrepreneur: inn?.length === 12,
    address,
    phone,
    email: clean(fields.email),
    director,
    directorShort: director ? shortName(director) : null,
    directorPost: humanizePost(clean(fields.directorPost)),
    bank: fields.bank,
    requisites,
  };
}

function emptyParty(message: string): PartyBlock {
  return {
    filled: false,
    name: message,
    inn: null,
    kpp: null,
    ogrn: null,
    ogrnLabel: 'ОГРН',
    entrepreneur: false,
    address: null,
    phone: null,
    email: null,
    director: null,
    directorShort: null,
    directorPost: null,
    bank: null,
    requisites: message,
  };
}

function bankBlock(account: BankAccountSnapshot | undefined): BankBlock | null {
  if (!account) return null;
  const data = suggestionData(account.fullInfo);
  const bik = clean(account.bik) ?? str(data, 'bic');
  const number = clean(account.number);
  if (!bik || !number) return null;
  return {
    // From the bank's look-up only: the account's own `name` is the user's label ("Расчетный
    // счёт"), not a bank, and a blank prints better than a wrong bank on a payment document.
    name: str(data, 'name', 'payment') ?? clean(str(account.fullInfo, 'value')) ?? '',
    bik,
    account: number,
    corrAccount: str(data, 'correspondent_account'),
    city: cityName(str(data, 'payment_city')),
  };
}

// DaData writes "г Москва"; documents use "г. Москва".
function cityName(city: string | null): string | null {
  return city ? city.replace(/^г\s+/u, 'г. ') : null;
}

function directorFromParty(party: Suggestion | null): string | null {
  const management = str(party, 'management', 'name');
  if (management) return management;
  if (str(party, 'type') !== 'INDIVIDUAL') return null;
  const fio = [str(party, 'fio', 'surname'), str(party, 'fio', 'name'), str(party, 'fio', 'patronymic')].filter(Boolean);
  return fio.length > 0 ? fio.join(' ') : null;
}

/** "Иванов Иван Иванович" -> "Иванов И. И."; anything that is not 2-3 words is kept as is. */
export function shortName(fullName: string): string {
  const parts = fullName.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 3) return fullName.trim();
  const [surname, ...given] = parts;
  return `${surname} ${given.map((p) => `${p.charAt(0).toUpperCase()}.`).join(' ')}`;
}

// DaData gives posts in capitals ("ГЕНЕРАЛЬНЫЙ ДИРЕКТОР"), which reads as shouting on a signature line.
function humanizePost(post: string | null): string | null {
  if (!post || post !== post.toUpperCase()) return post;
  const lower = post.toLowerCase();
  return lower.charAt(0).toUpperCase() + lower.slice(1);
}

function suggestionData(suggestion: Suggestion | null | undefined): Suggestion | null {
  const data = suggestion?.['data'];
  return data && typeof data === 'object' ? (data as Suggestion) : null;
}

/** A non-empty trimmed string at `path` inside a provider object, or null. */
function str(obj: unknown, ...path: string[]): string | null {
  let cur: unknown = obj;
  for (const key of path) {
    if (!cur || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, key)) return null;
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === 'string' ? clean(cur) : null;
}

function clean(value: string | null | undefined): string | null {
  const t = typeof value === 'string' ? value.trim() : '';
  return t === '' ? null : t;
}
