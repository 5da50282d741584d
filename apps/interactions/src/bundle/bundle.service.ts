import { Inject, Injectable } from '@nestjs/common';
import type { AccountContext } from '@papka/auth';
import { Buckets, NotFoundError, RenderFailedError, RenderPendingError, withStorage } from '@papka/platform';
import { cutToCharacters } from '@papka/ru';
import { OBJECT_STORAGE, type ObjectStorage, type StoredObject } from '@papka/storage';
import { BundleRepository } from './bundle.repository';
import { isCompressed, type ZipSource } from './zip-stream';

/** An object a bundle holds: where the bytes are and the name they get. */
interface StoredEntry {
  name: string;
  bucket: string;
  key: string;
  contentType: string | null;
}

/** Downloads: one attached document's file, or a ZIP of every document and file. */
@Injectable()
export class BundleService {
  constructor(
    private readonly repo: BundleRepository,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  /** One attached document's file, opened, with the name it is downloaded under. */
  async openDocument(acc: AccountContext, id: string, documentId: string): Promise<{ name: string; file: StoredObject }> {
    await this.interactionName(acc, id);
    const [doc] = await this.repo.documentFiles(acc.accountId, id, documentId);
    if (!doc) throw new NotFoundError('document');
    if (!doc.storage_key) {
      throw doc.render_state === 'failed' ? new RenderFailedError() : new RenderPendingError();
    }
    const key = doc.storage_key;
    return { name: withExt(doc.name, doc.filename), file: await withStorage(() => this.storage.get(Buckets.documents, key), 'document') };
  }

  /**
   * What a bundle streams: rendered documents first, then files, names made unique. Every
   * object is checked here, and streamZip opens the first one before the first byte goes out,
   * so a storage outage up to then is a clean 503 (`open` goes through withStorage). One that
   * starts later, while the ZIP is being sent, can only break the transfer off. Documents
   * without a file yet (rendering or failed) and objects gone from storage are left out and
   * counted in `skipped`.
   */
  async bundle(acc: AccountContext, id: string): Promise<{ name: string; sources: ZipSource[]; skipped: number }> {
    const name = await this.interactionName(acc, id);
    const docs = await this.repo.documentFiles(acc.accountId, id);
    const files = await this.repo.files(acc.accountId, id);
    const used = new Set<string>();
    const wanted: StoredEntry[] = [
      ...docs.flatMap((d) =>
        d.storage_key ? [{ name: `documents/${withExt(d.name, d.filename)}`, bucket: Buckets.documents, key: d.storage_key, contentType: d.content_type }] : [],
      ),
      ...files.map((f) => ({ name: `files/${withExt(f.name, f.filename)}`, bucket: Buckets.uploads, key: f.storage_key, contentType: f.content_type })),
    ];
    const sources: ZipSource[] = [];
    for (const e of wanted) {
      if (!(await withStorage(() => this.storage.stat(e.bucket, e.key)))) continue;
      sources.push({
        name: uniqueName(e.name, used),
        compressed: isCompressed(e.contentType),
        open: async () => (await withStorage(() => this.storage.get(e.bucket, e.key))).stream,
      });
    }
    return { name: withExt(name, null), sources, skipped: docs.length + files.length - sources.length };
  }

  /** 404 for an interaction that is absent or another account's; its name otherwise. */
  private async interactionName(acc: AccountContext, id: string): Promise<string> {
    const name = await this.repo.interactionName(acc.accountId, id);
    if (name === null) throw new NotFoundError('interaction');
    return name;
  }
}

/** The longest name a bundle entry or a download gets, in characters (the extension comes on top). */
const NAME_MAX_CHARS = 150;

/** What Windows refuses in a file name (its ZIP tool and Explorer skip such entries), and path separators. */
const FORBIDDEN = /[<>:"/\\|?*\u0000-\u001f\u007f]/g;
/** Device names Windows reserves, with any extension (`CON.pdf` too). */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;
const TRAILING_DOTS_AND_SPACES = /[. ]+$/;

/**
 * `Счёт № 15` + `ab12.pdf` -> `Счёт № 15.pdf`: a name any system can extract and save. Path
 * separators, control characters and what Windows forbids (`"` `:` `?` `*` `<` `>` `|`) become
 * `_`; trailing dots and spaces go; a reserved device name (`CON`, `LPT1`...) gets a `_` in front.
 * Cut to NAME_MAX_CHARS whole characters, never inside an emoji (half of a surrogate pair makes
 * Content-Disposition throw).
 */
export function withExt(name: string, filename: string | null): string {
  const clean = name.replace(FORBIDDEN, '_').trim().replace(TRAILING_DOTS_AND_SPACES, '');
  const safe = cutToCharacters(clean, NAME_MAX_CHARS).replace(TRAILING_DOTS_AND_SPACES, '') || 'file';
  const ext = filename?.includes('.') ? filename.slice(filename.lastIndexOf('.')).replace(FORBIDDEN, '_').replace(TRAILING_DOTS_AND_SPACES, '') : '';
  const full = ext && !safe.toLowerCase().endsWith(ext.toLowerCase()) ? `${safe}${ext}` : safe;
  const dot = full.indexOf('.');
  return RESERVED.test((dot < 0 ? full : full.slice(0, dot)).trimEnd()) ? `_${full}` : full;
}
/** `a.pdf`, `a (2).pdf`, `a (3).pdf`... */
export function uniqueName(name: string, used: Set<string>): string {
  let candidate = name;
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > name.lastIndexOf('/') ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
  used.add(candidate.toLowerCase());
  return candidate;
}
