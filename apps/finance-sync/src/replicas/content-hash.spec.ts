import { createHash } from 'node:crypto';
import { documentHash } from './content-hash';

const doc = {
  id: 'd-1',
  type: 'Счёт',
  kind: 'invoice' as const,
  templateId: null,
  name: 'Счёт №1',
  sum: 100_00,
  masks: { number: '1' },
  createdAt: '2026-06-01T10:00:00.000Z',
  status: 1,
  renderState: 'rendered' as const,
  storageKey: 'acc/d-1.pdf',
  filename: 'schet.pdf',
  contentType: 'application/pdf',
  contractorId: 'c-1',
  interactionId: 'i-1',
  contractDocumentId: null,
  organization: null,
};
const seller = { accountId: 'acc-1', name: 'ООО Папка', inn: '7701234567', kpp: '770101001' };

describe('documentHash', () => {
  it('is what it was before the seller was part of it while the account has no organisation (nothing is re-sent for that)', () => {
    const before = [doc.type, doc.templateId, doc.name, doc.sum, doc.masks, doc.createdAt, doc.status, doc.renderState, doc.storageKey, doc.filename, doc.contentType, doc.contractorId, doc.interactionId, doc.contractDocumentId];
    expect(documentHash(doc)).toBe(createHash('sha256').update(JSON.stringify(before)).digest('hex').slice(0, 32));
  });

  it("changes with the seller's name, INN and KPP", () => {
    const hashes = [
      documentHash(doc),
      documentHash({ ...doc, organization: seller }),
      documentHash({ ...doc, organization: { ...seller, name: 'ООО Папка и Ко' } }),
      documentHash({ ...doc, organization: { ...seller, inn: '7701234568' } }),
      documentHash({ ...doc, organization: { ...seller, kpp: null } }),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(documentHash({ ...doc, organization: { ...seller } })).toBe(hashes[1]);
  });

  it('changes with the payment that pays the invoice in full, and is what it was without one', () => {
    const payment = { id: 'p-1', name: 'п/п 7', date: '2026-06-09' };
    expect(documentHash({ ...doc, payment: null })).toBe(documentHash(doc));
    expect(documentHash({ ...doc, organization: seller, payment: null })).toBe(documentHash({ ...doc, organization: seller }));
    const hashes = [
      documentHash(doc),
      documentHash({ ...doc, payment }),
      documentHash({ ...doc, payment: { ...payment, id: 'p-2' } }),
      documentHash({ ...doc, payment: { ...payment, name: 'п/п 8' } }),
      documentHash({ ...doc, payment: { ...payment, date: '2026-06-10' } }),
      documentHash({ ...doc, organization: seller, payment }),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});
