import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { InteractionSnapshot } from '@papka/contracts';
import { lockInteraction, readSnapshot, touchInteraction, type LockedInteraction } from '../interactions/interactions.repository';

export interface NewFile {
  id: string;
  /** The upload's name in the account's `uploads` storage. */
  filename: string;
  name: string;
  contentType: string | null;
  size: number;
  storageKey: string;
}

/** What attaching an upload did: added it, renamed the attachment it already was, or nothing. */
export type FileAttach = { id: string; outcome: 'attached' | 'renamed' | 'unchanged' };

/** Documents and files attached to an interaction; each change also bumps its updated_at. */
@Injectable()
export class AttachmentsRepository {
  lock(m: EntityManager, accountId: string, interactionId: string): Promise<LockedInteraction | null> {
    return lockInteraction(m, accountId, interactionId);
  }

  snapshot(m: EntityManager, accountId: string, interactionId: string): Promise<InteractionSnapshot> {
    return readSnapshot(m, accountId, interactionId);
  }

  /** False when it was attached already. */
  async attachDocument(m: EntityManager, accountId: string, interactionId: string, documentId: string): Promise<boolean> {
    const inserted: unknown[] = await m.query(
      `INSERT INTO interaction_document (interaction_id, document_id) SELECT i.id, $2 FROM interaction i WHERE i.id = $1 AND i.account_id = $3
       ON CONFLICT DO NOTHING RETURNING document_id`,
      [interactionId, documentId, accountId],
    );
    if (inserted.length === 0) return false;
    await touchInteraction(m, accountId, interactionId);
    return true;
  }

  /** False when it was not attached. */
  async detachDocument(m: EntityManager, accountId: string, interactionId: string, documentId: string): Promise<boolean> {
    // TypeORM answers a DELETE as [rows, count].
    const [removed] = (await m.query(
      `DELETE FROM interaction_document l USING interaction i
        WHERE l.interaction_id = $1 AND l.document_id = $2 AND i.id = l.interaction_id AND i.account_id = $3 RETURNING l.document_id`,
      [interactionId, documentId, accountId],
    )) as [unknown[], number];
    if (removed.length === 0) return false;
    await touchInteraction(m, accountId, interactionId);
    return true;
  }

  /** The same upload attached again keeps its attachment id and takes the new name. */
  async attachFile(m: EntityManager, accountId: string, interactionId: string, f: NewFile): Promise<FileAttach> {
    const [row] = (await m.query(
      `INSERT INTO interaction_file (id, interaction_id, filename, name, content_type, size, storage_key)
       SELECT $1, i.id, $3, $4, $5, $6, $7 FROM interaction i WHERE i.id = $2 AND i.account_id = $8
       ON CONFLICT (interaction_id, filename) DO UPDATE SET name = excluded.name WHERE interaction_file.name <> excluded.name
       RETURNING id, (xmax = 0) AS inserted`,
      [f.id, interactionId, f.filename, f.name, f.contentType, f.size, f.storageKey, accountId],
    )) as { id: string; inserted: boolean }[];
    if (!row) {
      const [same] = (await m.query(
        `SELECT f.id FROM interaction_file f JOIN interaction i ON i.id = f.interaction_id
          WHERE f.interaction_id = $1 AND f.filename = $2 AND i.account_id = $3`,
        [interactionId, f.filename, accountId],
      )) as { id: string }[];
      return { id: same!.id, outcome: 'unchanged' };
    }
    await touchInteraction(m, accountId, interactionId);
    return { id: row.id, outcome: row.inserted ? 'attached' : 'renamed' };
  }

  /** False when the interaction has no such file. */
  async detachFile(m: EntityManager, accountId: string, interactionId: string, fileId: string): Promise<boolean> {
    const [removed] = (await m.query(
      `DELETE FROM interaction_file f USING interaction i
        WHERE f.id = $1 AND f.interaction_id = $2 AND i.id = f.interaction_id AND i.account_id = $3 RETURNING f.id`,
      [fileId, interactionId, accountId],
    )) as [unknown[], number];
    if (removed.length === 0) return false;
    await touchInteraction(m, accountId, interactionId);
    return true;
  }
}
