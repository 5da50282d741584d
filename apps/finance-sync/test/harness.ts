/** What the finance-sync integration specs share: synthetic producer events on the real Kafka, Papka entities, the API. */
import { randomBytes, randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Topics, type ContractorSnapshot, type DocumentSnapshot, type InteractionSnapshot, type PaymentSnapshot, type RecordView } from '@papka/contracts';
import { apiClient, eventually, infraEnv, testToken } from '@papka/testing';

export type Api = ReturnType<typeof apiClient>;

/**
 * Publishes events exactly as the contractors and interactions services do (envelope, key =
 * aggregate id, per-aggregate sequence), so a test controls their order across topics.
 */
export class Producers {
  private readonly kafka = new Kafka({ clientId: 'finance-sync-test', brokers: infraEnv().KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  private producer: Producer | undefined;
  private readonly seq = new Map<string, number>();

  async connect(): Promise<void> {
    this.producer = this.kafka.producer();
    await this.producer.connect();
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }

  admin() {
    return this.kafka.admin();
  }

  async send(topic: string, type: string, accountId: string, aggregateId: string, data: unknown, version = 1): Promise<void> {
    const sequence = (this.seq.get(aggregateId) ?? 0) + 1;
    this.seq.set(aggregateId, sequence);
    const envelope = { id: randomUUID(), type, version, occurredAt: new Date().toISOString(), accountId, aggregateId, sequence, traceId: randomUUID(), data };
    await this.producer!.send({ topic, messages: [{ key: aggregateId, value: JSON.stringify(envelope) }] });
  }

  /** Many events at once (one produce call per 500). */
  async sendMany(events: { topic: string; type: string; accountId: string; aggregateId: string; data: unknown; version?: number }[]): Promise<void> {
    const byTopic = new Map<string, { key: string; value: string }[]>();
    for (const e of events) {
      const sequence = (this.seq.get(e.aggregateId) ?? 0) + 1;
      this.seq.set(e.aggregateId, sequence);
      const envelope = { id: randomUUID(), type: e.type, version: e.version ?? 1, occurredAt: new Date().toISOString(), accountId: e.accountId, aggregateId: e.aggregateId, sequence, traceId: randomUUID(), data: e.data };
      byTopic.set(e.topic, [...(byTopic.get(e.topic) ?? []), { key: e.aggregateId, value: JSON.stringify(envelope) }]);
    }
    for (const [topic, messages] of byTopic) for (let i = 0; i < messages.length; i += 500) await this.producer!.send({ topic, messages: messages.slice(i, i + 500) });
  }
}

export const BIK = '044525225';

/** A 20-digit account number with a leading 4, distinct per n (the fake and the engine keep it a string). */
export const accountNumber = (n: number) => `40702810${String(n).padStart(12, '0')}`;

/** A 10-digit INN starting with 0 (region 01-09): a number would lose the zero. */
export const innOf = (n: number) => `0${String(100_000_000 + n).slice(-9)}`;

export function contractor(name: string, o: { inn?: string | null; kpp?: string | null; banks?: number } = {}): ContractorSnapshot {
  const now = new Date().toISOString();
  return {
    uuid: randomUUID(),
    type: 2,
    mainInfo: { name, inn: o.inn ?? null, address: 'г Москва, ул Тверская, д 1' },
    bankInfo: Array.from({ length: o.banks ?? 1 }, (_, i) => ({ id: randomUUID(), bik: BIK, number: accountNumber(Math.floor(Math.random() * 1e9) * 10 + i), name: 'Расчетный счёт', fullInfo: null })),
    contactInfo: [],
    fullInfo: o.kpp ? { value: name, data: { kpp: o.kpp } } : null,
    createdAt: now,
    updatedAt: now,
  };
}

export function interaction(c: ContractorSnapshot, name: string, sum: number): InteractionSnapshot {
  const now = new Date().toISOString();
  return {
    uuid: randomUUID(),
    contractorId: c.uuid,
    contractor: { name: c.mainInfo.name, inn: c.mainInfo.inn, address: c.mainInfo.address },
    name,
    description: '',
    status: 1,
    sum,
    paidSum: 0,
    balance: sum,
    paymentsCount: 0,
    documents: [],
    files: [],
    createdAt: now,
    updatedAt: now,
  };
}

export function payment(sum: number, date: string, type: 'income' | 'outcome' = 'income'): PaymentSnapshot {
  return { uuid: randomUUID(), type, name: `Оплата ${randomBytes(2).toString('hex')}`, sum, date, contractorBank: null, createdAt: new Date().toISOString() };
}

export const contractorEvent = (accountId: string, c: ContractorSnapshot, type = 'contractor.created') => ({ topic: Topics.contractors, type, accountId, aggregateId: c.uuid, data: c });
export const interactionEvent = (accountId: string, i: InteractionSnapshot, type = 'interaction.created') => ({ topic: Topics.interactions, type, accountId, aggregateId: i.uuid, data: i, version: 2 });
export const paymentEvent = (accountId: string, i: InteractionSnapshot, p: PaymentSnapshot, type = 'interaction.payment.recorded') => ({
  topic: Topics.interactions,
  type,
  accountId,
  aggregateId: i.uuid,
  data: { ...i, payment: p },
  version: 2,
});

export interface Tenant {
  accountId: string;
  api: Api;
}

/** A fresh Papka account; `base` is asked on every call (a restarted service listens on a new port). */
export async function tenant(base: () => string, prefix = 'fs'): Promise<Tenant> {
  const accountId = `${prefix}-${randomBytes(4).toString('hex')}`;
  const token = await testToken(accountId);
  const api: Api = (method, path, body, init) => apiClient(base(), token)(method, path, body, init);
  return { accountId, api };
}

export async function records(api: Api, query = ''): Promise<RecordView[]> {
  const all: RecordView[] = [];
  for (let page = 1; page <= 100; page++) {
    const res = await api<RecordView[]>('GET', `/v2/finance/records?size=1000&page=${page}${query ? `&${query}` : ''}`);
    if (res.status !== 200) throw new Error(`records: ${res.status} ${JSON.stringify(res.body)}`);
    all.push(...res.body);
    if (res.body.length < 1000) break;
  }
  return all;
}

/** Waits until every record of the account is in one of `states` and there are `count` of them. */
export function settled(api: Api, count: number, timeoutMs: number, states: RecordView['state'][] = ['synced', 'failed']): Promise<RecordView[]> {
  return eventually(async () => {
    const list = await records(api);
    return list.length === count && list.every((r) => states.includes(r.state)) ? list : null;
  }, timeoutMs, 250);
}

/** "2010.00" for 201000 kopecks: how Adesk answers amounts. */
export const rubles = (kopecks: number) => `${Math.trunc(kopecks / 100)}.${String(kopecks % 100).padStart(2, '0')}`;

/** A document snapshot as the documents service publishes it (papka.documents.v1). */
export function documentSnapshot(c: ContractorSnapshot, o: { type?: string; templateId?: string | null; sum?: number; renderState?: DocumentSnapshot['renderState']; storageKey?: string | null } = {}): DocumentSnapshot {
  const now = new Date().toISOString();
  const uuid = randomUUID();
  const rendered = (o.renderState ?? 'rendered') === 'rendered';
  return {
    uuid,
    name: `Счёт ${randomBytes(2).toString('hex')}`,
    type: o.type ?? 'Счёт',
    status: 1,
    renderState: o.renderState ?? 'rendered',
    renderError: null,
    filename: rendered ? 'schet.pdf' : null,
    contentType: rendered ? 'application/pdf' : null,
    storageKey: o.storageKey !== undefined ? o.storageKey : rendered ? `${uuid}/schet.pdf` : null,
    contractorId: c.uuid,
    contractor: { name: c.mainInfo.name, inn: c.mainInfo.inn, address: c.mainInfo.address },
    templateId: o.templateId ?? null,
    masks: { number: '17', date: '2025-03-04' },
    sum: o.sum ?? 1_000_00,
    createdAt: now,
    updatedAt: now,
  };
}

export const documentEvent = (accountId: string, d: DocumentSnapshot, type = 'document.created') => ({ topic: Topics.documents, type, accountId, aggregateId: d.uuid, data: d });

/** The interaction event that attaches `d` (its snapshot lists the document). */
export const documentAttachedEvent = (accountId: string, i: InteractionSnapshot, d: DocumentSnapshot) => {
  const document = { id: d.uuid, name: d.name, type: d.type, status: d.status, filename: d.filename, sum: d.sum, createdAt: d.createdAt };
  i.documents = [...i.documents.filter((x) => x.id !== d.uuid), document];
  return { topic: Topics.interactions, type: 'interaction.document.attached', accountId, aggregateId: i.uuid, data: { ...i, document }, version: 2 };
};

/** Retries 50 ms .. 1 s apart, 30 of them (faults are dense in these tests). */
export const FAST_RETRY_SCHEDULE = ['0', '50', '100', '200', '400', ...Array(25).fill('1000')].join(',');

/**
 * The engine's timings compressed for tests (a round every 50 ms, probes and waits in a few
 * hundred ms), merged under each suite's own values.
 */
export const fastEngineEnv = (own: Record<string, string>): Record<string, string> => ({
  LOG_LEVEL: 'info',
  FINANCE_RETRY_SCHEDULE: FAST_RETRY_SCHEDULE,
  FINANCE_PAUSE_PROBE_MS: '300',
  FINANCE_UNAVAILABLE_RETRY_MS: '200',
  FINANCE_WORKER_POLL_MS: '50',
  ...own,
});
