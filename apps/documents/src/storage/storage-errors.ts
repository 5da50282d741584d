import { ServiceUnavailableError } from '@papka/platform';
import { StorageUnavailableError } from '@papka/storage';

/** Runs a storage call, turning an outage into a clean 503. */
export async function withStorage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StorageUnavailableError) {
      throw new ServiceUnavailableError('STORAGE_UNAVAILABLE', 'File storage is not reachable right now, try again shortly', 5);
    }
    throw err;
  }
}
