import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { FileStorageUnavailableError, fieldError } from '@papka/platform';
import { StorageUnavailableError } from '@papka/storage';
import { DocxTemplateError, listDocxPlaceholders } from '../docx/docx-filler';
import type { Upload } from '../uploads/upload.entity';
import { UploadsService } from '../uploads/uploads.service';
import { compileTemplate, TemplateSyntaxError } from './engine/handlebars-engine';

/** Uploads whose verdict is kept (an upload never changes, so neither does its verdict). */
const VERDICTS = 2_000;

/**
 * Whether an uploaded HTML or DOCX file can serve as a template: HTML compiled, DOCX parsed
 * with its tags, as the render does. One verdict per upload, kept: a template create and a
 * constructor call naming the upload directly (`filename`) both refuse, with a 400 naming
 * `filename`, a file whose every document could only fail at render time. With storage down
 * there is no verdict: a template create then answers 503, a constructor call goes on (its
 * document waits for storage like any other). Before, the
 * constructor took such a file with a 201 and its document then failed.
 */
@Injectable()
export class TemplateFileCheck {
  private readonly verdicts = new LRUCache<string, Promise<string | null>>({ max: VERDICTS });

  constructor(private readonly uploads: UploadsService) {}

  /** `storageDown`: what to do without a verdict because storage is down (`throw` its 503, or `allow`). */
  async assertUsable(upload: Upload, storageDown: 'throw' | 'allow' = 'throw'): Promise<void> {
    const key = upload.storageKey;
    let verdict = this.verdicts.get(key);
    if (!verdict) {
      verdict = this.judge(upload);
      this.verdicts.set(key, verdict);
      // A storage outage (or a file over the template limit, a 400 of its own) is no verdict: asked again next time.
      verdict.catch(() => this.verdicts.delete(key));
    }
    let problem: string | null;
    try {
      problem = await verdict;
    } catch (err) {
      // Storage down: no verdict, and no reason to refuse a document that will render once it is
      // back (the render waits for storage; a file that does not compile then fails it).
      if (storageDown === 'allow' && (err instanceof StorageUnavailableError || err instanceof FileStorageUnavailableError)) return;
      throw err;
    }
    if (problem) throw fieldError('filename', `the template does not compile: ${problem}`);
  }

  private async judge(upload: Upload): Promise<string | null> {
    const source = await this.uploads.read(upload);
    try {
      if (upload.kind === 'html') compileTemplate(source.toString('utf8'));
      else listDocxPlaceholders(source);
      return null;
    } catch (err) {
      if (err instanceof TemplateSyntaxError || err instanceof DocxTemplateError) return err.message;
      throw err;
    }
  }
}
