import { ParseUUIDPipe, type ArgumentMetadata } from '@nestjs/common';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { StoredObject } from '@papka/storage';
import { fieldError } from './errors';

/** A UUID route parameter, answered in lower case: the form rows, events and Kafka keys carry. */
class IdPipe extends ParseUUIDPipe {
  override async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    return (await super.transform(value, metadata)).toLowerCase();
  }
}

/**
 * `@Param(name, uuidParam(name))`: a route parameter that must be a UUID, else a 400 naming it.
 * Taken in lower case, so a client that writes ids in capitals names the same row, and its
 * changes the same aggregate (one Kafka key, one sequence), as everyone else.
 */
export const uuidParam = (name: string): ParseUUIDPipe => new IdPipe({ exceptionFactory: () => fieldError(name, `${name} must be a UUID`) });

/** What sendFile streams: a StoredObject, or anything with its stream, type and size. */
export type SendableFile = Pick<StoredObject, 'stream' | 'contentType' | 'size'>;

/**
 * Streams a file as a download named `name`. A client that goes away mid-stream just gets the
 * connection closed: the status line and headers are already out.
 */
export async function sendFile(res: Response, file: SendableFile, name: string): Promise<void> {
  // res.attachment() writes both filename= (ASCII fallback) and filename*= (RFC 5987) for Cyrillic names.
  res.attachment(name);
  res.setHeader('Content-Type', file.contentType || 'application/octet-stream');
  res.setHeader('Content-Length', String(file.size));
  await pipeline(file.stream, res).catch(() => res.destroy());
}
