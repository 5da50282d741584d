import { crc32, deflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import { paymentQrPayload, PaymentQrFieldError } from '@papka/ru';
import type { PartyBlock } from './parties';

export interface PaymentQr {
  /** The ГОСТ Р 56042-2014 text encoded in the image. */
  payload: string;
  /** PNG as a data: URI (the renderer loads nothing else). */
  dataUri: string;
}

/**
 * The payment QR of an invoice, or null when the seller's requisites are too
 * incomplete for one (no organisation, no bank account, a bank whose look-up
 * gave no name or correspondent account, malformed ИНН/КПП): an invoice
 * without a QR is still a valid invoice, a QR with wrong requisites sends
 * money astray. Accounts here are at banks (БИК 04…), which all have a
 * correspondent account, so the standard's "0" (none) is never right for them.
 */
export function invoicePaymentQr(seller: PartyBlock, sumKopecks: number, purpose: string): PaymentQr | null {
  const bank = seller.bank;
  if (!seller.filled || !bank || !bank.name || !bank.corrAccount || sumKopecks <= 0) return null;
  let payload: string;
  try {
    payload = paymentQrPayload({
      name: seller.name,
      personalAcc: bank.account,
      bankName: bank.name,
      bic: bank.bik,
      correspAcc: bank.corrAccount,
      sumKopecks,
      purpose,
      payeeInn: seller.inn ?? undefined,
      kpp: seller.kpp ?? undefined,
    });
  } catch (error) {
    if (error instanceof PaymentQrFieldError) return null;
    throw error;
  }
  // Every text field is cut to the standard's length, so the payload (under 1 KB) always fits.
  return { payload, dataUri: `data:image/png;base64,${qrPng(payload).toString('base64')}` };
}

const SCALE = 4; // pixels per module: ~300 px, sharp at the 34 mm it is printed
const QUIET_ZONE = 4; // modules of white border the QR standard requires

/**
 * QR code as an 8-bit greyscale PNG. Error correction level M: what bank apps
 * and the standard's examples use, and it survives a crease or a smudge.
 * The PNG is written here rather than by qrcode's toDataURL, which goes
 * through pngjs and takes tens of milliseconds per image (seconds under Jest)
 * for what is a deflate of a few kilobytes.
 */
export function qrPng(text: string): Buffer {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = modules.size;
  const side = (size + 2 * QUIET_ZONE) * SCALE;
  const rowBytes = side + 1; // each scanline starts with its filter type (0: none)
  const raw = Buffer.alloc(rowBytes * side, 0xff);
  for (let y = 0; y < side; y++) raw[y * rowBytes] = 0;
  // One scanline per module row, its dark modules filled as runs of SCALE pixels, then copied
  // to the row's other SCALE - 1 scanlines (a pixel-by-pixel loop cost ~0.4 ms per invoice).
  for (let row = 0; row < size; row++) {
    const first = (row + QUIET_ZONE) * SCALE * rowBytes;
    for (let col = 0; col < size; col++) {
      if (!modules.data[row * size + col]) continue;
      const x = first + 1 + (col + QUIET_ZONE) * SCALE;
      raw.fill(0, x, x + SCALE);
    }
    for (let k = 1; k < SCALE; k++) raw.copy(raw, first + k * rowBytes, first, first + rowBytes);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([8, 0, 0, 0, 0], 8); // bit depth 8, greyscale, deflate, adaptive filtering, no interlace
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
