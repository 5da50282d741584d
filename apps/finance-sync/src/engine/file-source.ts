import type { Readable } from 'node:stream';
import type { FactoryProvider } from '@nestjs/common';
import { Buckets } from '@papka/platform';
import { OBJECT_STORAGE, ObjectNotFoundError, type ObjectStorage } from '@papka/storage';
import { FileNotFound, type FileSource } from '../connectors';

/** The FileSource the engine hands to connectors (the DMS reads rendered PDFs through it). */
export const FILE_SOURCE = Symbol('FINANCE_FILE_SOURCE');

/** Object storage's `documents` bucket as a FileSource. */
export class StorageFileSource implements FileSource {
  constructor(private readonly storage: ObjectStorage) {}

  async open(key: string): Promise<{ stream: Readable; size: number }> {
    try {
      const o = await this.storage.get(Buckets.documents, key);
      return { stream: o.stream, size: o.size };
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw new FileNotFound(key);
      throw err;
    }
  }
}

/** Until object storage is configured for finance-sync: every open fails (no connector needing files can work). */
export class NoFileSource implements FileSource {
  open(key: string): Promise<never> {
    return Promise.reject(new Error(`object storage is not configured for finance-sync (file ${key})`));
  }
}

/**
 * The storage-backed FileSource once OBJECT_STORAGE is provided (StorageModule.register(config),
 * which is global), else NoFileSource.
 */
export const fileSourceProvider: FactoryProvider<FileSource> = {
  provide: FILE_SOURCE,
  inject: [{ token: OBJECT_STORAGE, optional: true }],
  useFactory: (storage?: ObjectStorage) => (storage ? new StorageFileSource(storage) : new NoFileSource()),
};
