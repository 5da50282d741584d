import { open } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import type { Readable } from 'node:stream';

/** A ready-made blank form or spreadsheet, as `/v2/docs/ready` lists it. */
export interface ReadyDocument {
  id: number;
  /** Category shown to the user. */
  type: string;
  title: string;
  description: string;
  /** File name under assets/ready, also the download name. */
  file: string;
  createdAt: string;
}

/** Shipped files; regenerate with `node -r @swc-node/register apps/documents/scripts/generate-ready.ts`. */
export const READY_ASSETS_DIR = resolve(__dirname, '../../assets/ready');

// Fixed dates: the list is part of the public API and must not change from one deploy to the next.
export const READY_DOCUMENTS: readonly ReadyDocument[] = Object.freeze([
  {
    id: 1,
    type: 'Налоги',
    title: 'Шаблон для построения финансовой модели',
    description: 'Постройте финансовую модель для своего бизнеса по шаблону',
    file: 'shablon-finmodeli.xlsx',
    createdAt: '2025-09-25T10:46:41.000Z',
  },
  {
    id: 2,
    type: 'Финансы',
    title: 'Отчёт о движении денежных средств (ДДС)',
    description: 'Планируйте и учитывайте поступления и выплаты по статьям и месяцам',
    file: 'otchet-dds.xlsx',
    createdAt: '2025-09-25T10:52:12.000Z',
  },
  {
    id: 3,
    type: 'Договоры',
    title: 'Договор оказания услуг',
    description: 'Бланк договора возмездного оказания услуг между организациями и ИП',
    file: 'dogovor-okazaniya-uslug.docx',
    createdAt: '2025-09-26T08:15:03.000Z',
  },
  {
    id: 4,
    type: 'Акты',
    title: 'Акт выполненных работ',
    description: 'Бланк акта сдачи-приёмки выполненных работ (оказанных услуг)',
    file: 'akt-vypolnennyh-rabot.docx',
    createdAt: '2025-09-26T08:20:47.000Z',
  },
  {
    id: 5,
    type: 'Счета',
    title: 'Счёт на оплату',
    description: 'Бланк счёта на оплату: суммы по строкам, итог и НДС считаются формулами',
    file: 'schet-na-oplatu.xlsx',
    createdAt: '2025-09-26T08:31:19.000Z',
  },
  {
    id: 6,
    type: 'Доверенности',
    title: 'Доверенность',
    description: 'Бланк доверенности от организации на представление её интересов',
    file: 'doverennost.docx',
    createdAt: '2025-09-29T12:04:55.000Z',
  },
].map((d) => Object.freeze(d)));

export const READY_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

export interface ReadyFile {
  filename: string;
  contentType: string;
  size: number;
  stream: Readable;
}

/**
 * The file of a ready document, streamed from disk; null when there is no such id.
 * A catalogued file missing on disk is a broken deployment and throws.
 */
export async function openReadyDocument(id: number): Promise<ReadyFile | null> {
  const doc = READY_DOCUMENTS.find((d) => d.id === id);
  if (!doc) return null;
  // One handle for both the size and the stream, so they describe the same file.
  const handle = await open(resolve(READY_ASSETS_DIR, doc.file), 'r');
  try {
    const { size } = await handle.stat();
    const stream = handle.createReadStream();
    return {
      filename: doc.file,
      contentType: READY_CONTENT_TYPES[extname(doc.file)] ?? 'application/octet-stream',
      size,
      stream,
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
