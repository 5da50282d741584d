export * from './fs.storage';
export { MinioStorage, type S3Options } from './minio.storage';
export * from './object-storage';

import { FsStorage } from './fs.storage';
import { MinioStorage, type S3Options } from './minio.storage';
import type { ObjectStorage } from './object-storage';

export type StorageConfig = ({ driver: 's3' } & S3Options) | { driver: 'fs'; root: string };

export const createObjectStorage = (c: StorageConfig): ObjectStorage =>
  c.driver === 's3' ? new MinioStorage(c) : new FsStorage(c.root);
