import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { authHeaderOf, FileTooLarge, jsonWithBase64 } from './dms.client';

const MARK = '\u0000file\u0000';

/** `bytes` as a stream of pieces of awkward sizes (1, 2, 4, 7, 1000 ...), none a multiple of 3 on purpose. */
function chunked(bytes: Buffer): Readable {
  const sizes = [1, 2, 4, 7, 1000, 65_537];
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    parts.push(bytes.subarray(at, at + n));
    at += n;
  }
  return Readable.from(parts);
}

async function text(r: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

describe('jsonWithBase64', () => {
  it.each([0, 1, 2, 3, 4, 5, 1000, 300_001])('streams the JSON with the base64 of %i bytes in place of the marker, exact length included', async (n) => {
    const bytes = randomBytes(n);
    const body = { Ext_ID: 'x', Name: 'ООО «Ромашка»', Binaries: { FileName: 'a.pdf', FileBase64: MARK } };
    const out = jsonWithBase64(body, MARK, { stream: chunked(bytes), size: n }, 1_000_000);
    const json = await text(out.stream);
    expect(json).toBe(JSON.stringify({ ...body, Binaries: { FileName: 'a.pdf', FileBase64: bytes.toString('base64') } }));
    expect(out.length).toBe(Buffer.byteLength(json));
  });

  it('refuses a file whose known size is over the cap before reading any of it', () => {
    const stream = chunked(randomBytes(10));
    expect(() => jsonWithBase64({ f: MARK }, MARK, { stream, size: 10 }, 9)).toThrow(FileTooLarge);
    expect(stream.destroyed).toBe(true);
  });

  it('fails the stream when a file of unknown size turns out over the cap', async () => {
    const out = jsonWithBase64({ f: MARK }, MARK, { stream: chunked(randomBytes(5000)) }, 4096);
    expect(out.length).toBeUndefined();
    await expect(text(out.stream)).rejects.toThrow(FileTooLarge);
  });
});

describe('authHeaderOf', () => {
  it('reads "Header: Scheme" and a bare header name', () => {
    expect(authHeaderOf('Authorization: Bearer', 't')).toEqual({ authorization: 'Bearer t' });
    expect(authHeaderOf('X-Api-Key', 't')).toEqual({ 'x-api-key': 't' });
    expect(authHeaderOf('Authorization:Token', 't')).toEqual({ authorization: 'Token t' });
  });
});
