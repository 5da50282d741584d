import { Global, Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { createObjectStorage, OBJECT_STORAGE, ObjectNotFoundError, StorageUnavailableError, type ObjectStorage } from '@papka/storage';
import { type StorageEnv } from './config';
import { FileStorageUnavailableError, NotFoundError } from './errors';

/** The shared object-storage buckets: `uploads` is written by documents, `documents` holds rendered files. */
export const Buckets = { uploads: 'uploads', documents: 'documents' } as const;

@Injectable()
export class StorageHealthIndicator {
  constructor(
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly health: HealthIndicatorService,
  ) {}

  /**
   * Reported, never failing (as the event bus): while object storage is down the routes that
   * need a file answer 503 each, and the rest (lists, contractors, payments) keep working, so
   * readiness must not take every pod out of rotation. A HEAD of the `documents` bucket, within
   * 2 s: a key scoped to its buckets may do it (listing every bucket needed s3:ListAllMyBuckets).
   */
  async check(key = 'storage') {
    const up = await this.storage.ping(Buckets.documents, 2_000);
    return this.health.check(key).up({ kind: this.storage.kind, storage: up ? 'up' : 'down' });
  }
}

/** The object storage (MinIO/S3, or the filesystem in embedded mode) and its health indicator. */
@Global()
@Module({})
export class StorageModule {
  static register(config: StorageEnv): DynamicModule {
    return {
      module: StorageModule,
      imports: [TerminusModule],
      providers: [
        {
          provide: OBJECT_STORAGE,
          useFactory: () =>
            createObjectStorage(
              config.STORAGE_DRIVER === 's3'
                ? { driver: 's3', endpoint: config.S3_ENDPOINT, accessKey: config.S3_ACCESS_KEY, secretKey: config.S3_SECRET_KEY, region: config.S3_REGION }
                : { driver: 'fs', root: config.STORAGE_FS_ROOT },
            ),
        },
        StorageHealthIndicator,
      ],
      exports: [OBJECT_STORAGE, StorageHealthIndicator],
    };
  }
}

/**
 * Runs a storage call, turning an outage into a clean 503, and an object that is gone (its
 * document deleted between the row's read and the file's) into a 404 naming `what`.
 */
export async function withStorage<T>(fn: () => Promise<T>, what = 'file'): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StorageUnavailableError) {
      throw new FileStorageUnavailableError();
    }
    if (err instanceof ObjectNotFoundError) throw new NotFoundError(what);
    throw err;
  }
}
