import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { request } from 'undici';
import { apiClient, eventually, FIXTURE_ACCOUNT_NUMBER as ACCOUNT, FIXTURE_BIK as BIK, FIXTURE_INN as INN } from '@papka/testing';

type Api = ReturnType<typeof apiClient>;

/**
 * What an invoice needs, through the public API: a contractor with a bank account and the
 * account's own organisation. Returns once the documents service has both from their events
 * (it learns of them from Kafka, never by asking), with the contractor's id.
 */
export async function seedInvoiceParties(api: Api, documents: INestApplication, accountId: string, contractor: { name: string; address: string }): Promise<string> {
  const created = await api<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 1, inn: INN, ...contractor });
  const contractorId = created.body.uuid;
  await api('POST', `/v2/docs/contractors/${contractorId}/bank`, { bik: BIK, number: ACCOUNT });
  await api('PUT', '/v2/docs/organization', { inn: '7707083893', bankAccounts: [{ bik: BIK, number: ACCOUNT }] });
  await eventually(async () => (await api('GET', `/v2/docs/contractors/${contractorId}/documents`)).status === 200, 30_000);
  await eventually(async () => {
    const rows = await documents.get(DataSource).query('SELECT 1 FROM organization_replica WHERE account_id = $1', [accountId]);
    return rows.length === 1;
  }, 30_000);
  return contractorId;
}

/** GET …/download as a client does: status, headers and the whole body. */
export async function download(base: string, token: string, id: string) {
  const res = await request(`${base}/v2/docs/documents/${id}/download`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}
