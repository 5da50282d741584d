import { randomBytes, randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import busboy from 'busboy';
import type { Request } from 'express';
import type { AccountContext } from '@papka/auth';
import { MULTIPART_SLACK_BYTES } from '@papka/contracts';
import { Commands } from '@papka/messaging';
import { BadMultipartError, Buckets, discardBody, fieldError, NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError, withStorage } from '@papka/platform';
import { OBJECT_STORAGE, type ObjectStorage, type StoredObject } from '@papka/storage';
import { CONFIG, type DocumentsConfig } from '../config';
import { MAX_SNIFF_BYTES, sniffUpload } from './sniff';
import type { Upload } from './upload.entity';
import { UploadsRepository } from './uploads.repository';

class UploadTooLargeError extends PayloadTooLargeError {
  constructor(limit: number) {
    super(`The file is larger than ${limit} bytes`);
  }
}

/** Reads at least `n` bytes (or all, if shorter) and leaves the stream paused after them. */
function readHead(stream: Readable, n: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (ended: boolean) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', reject);
      if (!ended) stream.pause();
      resolve({ head: Buffer.concat(chunks), ended });
    };
    const onData = (c: Buffer) => {
      chunks.push(c);
      length += c.length;
      if (length >= n) finish(false);
    };
    const onEnd = () => finish(true);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', reject);
  });
}

const MAX_FILE_NAME_CHARS = 255;
/** How long a refused upload's remaining body is read (and thrown away) before its answer. */
const DRAIN_MAX_MS = 5_000;

/**
 * Before a refused upload is answered: reads and discards what is left of its body (at most
 * `maxBytes` and DRAIN_MAX_MS, `discardBody`). Past either cap the answer says
 * `Connection: close` and the connection ends after it.
 */
async function settleBody(req: Request, maxBytes: number): Promise<void> {
  if (!(await discardBody(req, maxBytes, DRAIN_MAX_MS))) req.res?.setHeader('Connection', 'close');
}

/**
 * Uploads: streamed from the request into the `uploads` bucket, never held whole in memory,
 * capped in size, typed by their content (not their name). The row is written only after the
 * object is stored, so an outage leaves nothing half-made.
 */
@Injectable()
export class UploadsService {
  constructor(
    @Inject(CONFIG) private readonly config: DocumentsConfig,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly repo: UploadsRepository,
    private readonly commands: Commands,
  ) {}

  async upload(acc: AccountContext, req: Request): Promise<Upload> {
    const limit = this.config.UPLOAD_LIMIT_BYTES;
    // Refused before reading (not multipart; declared beyond the limit and the multipart framing
    // around it): nothing is stored, but a body of up to twice that is read and thrown away
    // first. Answering and closing with the rest unread resets the connection (TCP RST), and the
    // sender, still writing (the gateway), can lose the answer with it and report a 502. A body
    // declared larger still is refused unread, and the connection closed after the answer.
    const refusal = !/^multipart\/form-data/i.test(req.headers['content-type'] ?? '')
      ? new UnsupportedMediaTypeError('Send the file as multipart/form-data in a field named "file"')
      : Number(req.headers['content-length'] ?? 0) > limit + MULTIPART_SLACK_BYTES
        ? new UploadTooLargeError(limit)
        : null;
    if (refusal) {
      await settleBody(req, 2 * (limit + MULTIPART_SLACK_BYTES));
      throw refusal;
    }
    // Refused part-way (storage down, wrong type, too large): the rest of the body is dealt
    // with before the answer, so the client's next request on this connection does not hang.
    return this.receive(acc, req, limit).catch(async (err: unknown) => {
      await settleBody(req, limit + MULTIPART_SLACK_BYTES);
      throw err;
    });
  }

  private receive(acc: AccountContext, req: Request, limit: number): Promise<Upload> {
    return new Promise<Upload>((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: limit, fields: 20, fieldSize: 4096 } });
      } catch {
        reject(new BadMultipartError());
        return;
      }
      let taken = false;
      let file: Readable | null = null;
      bb.on('file', (field, stream, info) => {
        // A part that ends before its boundary errors on its own stream ("Unexpected end of
        // form"): always heard here, or it would be an uncaught error that ends the process
        // (the store below pipes it, and pipe() listens to no errors).
        stream.on('error', () => undefined);
        if (field !== 'file' || taken) {
          stream.resume();
          return;
        }
        taken = true;
        file = stream;
        this.store(acc, stream, info.filename || 'file', limit).then(resolve, (err: unknown) => {
          stream.resume();
          reject(err);
        });
      });
      bb.on('error', () => reject(new BadMultipartError()));
      bb.on('close', () => {
        if (!taken) reject(fieldError('file', 'a file in the multipart field "file" is required'));
      });
      // A client that goes away mid-body: its file ends in an error (the put then fails and
      // removes what it wrote) instead of waiting for the rest of a body that never comes.
      req.once('close', () => {
        if (req.complete || req.readableEnded) return;
        req.unpipe(bb);
        // The store then fails, once it has removed what it wrote; with no file yet, nothing to wait for.
        if (file) file.destroy(new BadMultipartError());
        else reject(new BadMultipartError());
      });
      req.pipe(bb);
    });
  }

  private async store(acc: AccountContext, stream: Readable & { truncated?: boolean }, originalName: string, limit: number) {
    // The name travels as object metadata, which S3 caps at 2 KB (URI-encoded Cyrillic is 6
    // bytes a letter); no file system takes longer names either.
    if ([...originalName].length > MAX_FILE_NAME_CHARS) {
      throw fieldError('file', `the file name may be at most ${MAX_FILE_NAME_CHARS} characters`);
    }
    const { head, ended } = await readHead(stream, MAX_SNIFF_BYTES);
    const type = await sniffUpload(head, originalName);
    if (!type) {
      throw new UnsupportedMediaTypeError('Only HTML, DOCX, XLSX, PDF, PNG and JPEG files are accepted (judged by content)');
    }
    const filename = await this.freshFilename(acc.accountId, type.ext);
    const key = `${acc.accountId}/${filename}`;
    const body = new PassThrough();
    body.write(head);
    let tooLarge = head.length > limit;
    stream.on('limit', () => {
      tooLarge = true;
      body.destroy(new UploadTooLargeError(limit));
    });
    // The part broke off (truncated, or the client gone): the put fails with it, a 400. The
    // body's own error is heard here too, for the moments before the put listens to it.
    let broke: Error | null = null;
    body.on('error', () => undefined);
    if (ended) body.end();
    else if (stream.errored) throw new BadMultipartError();
    else {
      stream.once('error', () => body.destroy((broke ??= new BadMultipartError())));
      stream.pipe(body);
    }

    let size: number;
    try {
      await withStorage(() => this.storage.ensureBucket(Buckets.uploads));
      if (broke) throw broke;
      ({ size } = await withStorage(() =>
        this.storage.put(Buckets.uploads, key, body, { contentType: type.mime, metadata: { filename: originalName } }),
      ));
      if (broke) throw broke;
      if (tooLarge || stream.truncated) throw new UploadTooLargeError(limit);
    } catch (err) {
      await this.storage.remove(Buckets.uploads, key).catch(() => undefined);
      throw tooLarge ? new UploadTooLargeError(limit) : (broke ?? err);
    }
    try {
      const row = {
        id: randomUUID(),
        filename,
        originalName: originalName.slice(0, 500),
        kind: type.kind,
        contentType: type.mime,
        size,
        storageKey: key,
      };
      return await this.commands.run(acc.accountId, (t) => this.repo.insert(t.manager, acc.accountId, row));
    } catch (err) {
      await this.storage.remove(Buckets.uploads, key).catch(() => undefined);
      throw err;
    }
  }

  /**
   * A name no upload of the account has yet. The object's key is made from it (interactions
   * finds an attached upload by `<account>/<filename>`), so a name drawn twice would have the
   * put overwrite the first upload's file, and the insert's refusal then removed it. 40 random
   * bits: at 100,000 uploads in an account a draw repeats about once in 200 accounts.
   */
  private async freshFilename(accountId: string, ext: string): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const filename = `${randomBytes(5).toString('hex')}.${ext}`;
      if (!(await this.repo.findByFilename(accountId, filename))) return filename;
    }
    throw new Error('no free upload name after 5 draws');
  }

  async find(acc: AccountContext, filename: string): Promise<Upload> {
    const row = await this.repo.findByFilename(acc.accountId, filename);
    if (!row) throw new NotFoundError(`upload ${filename}`);
    return row;
  }

  async open(upload: Upload): Promise<StoredObject> {
    return withStorage(() => this.storage.get(Buckets.uploads, upload.storageKey), `upload ${upload.filename}`);
  }

  /** The whole object as a buffer (templates only: they are small and must be parsed). */
  async read(upload: Upload, maxBytes = 5 * 1024 * 1024): Promise<Buffer> {
    if (upload.size > maxBytes) throw fieldError('filename', `a template file may be at most ${maxBytes} bytes`);
    const { stream } = await this.open(upload);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
}
