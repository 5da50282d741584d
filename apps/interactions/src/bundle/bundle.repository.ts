import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface DocumentFile {
  name: string;
  filename: string | null;
  storage_key: string | null;
  content_type: string | null;
  render_state: string;
}

export interface AttachedFile {
  name: string;
  filename: string;
  storage_key: string;
  content_type: string | null;
}

/** Where the files of an interaction's documents and attachments are. */
@Injectable()
export class BundleRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Null when the interaction is absent or another account's. */
  async interactionName(accountId: string, id: string): Promise<string | null> {
    const [row] = (await this.ds.query(`SELECT name FROM interaction WHERE id = $1 AND account_id = $2`, [id, accountId])) as { name: string }[];
    return row?.name ?? null;
  }

  /** The attached documents (all, or the one asked for) in attach order; deleted ones drop out. */
  documentFiles(accountId: string, interactionId: string, documentId?: string): Promise<DocumentFile[]> {
    return this.ds.query(
      `SELECT d.name, d.filename, d.storage_key, d.content_type, d.render_state
         FROM interaction_document l JOIN document_replica d ON d.id = l.document_id AND NOT d.deleted AND d.account_id = $1
        WHERE l.interaction_id = $2 ${documentId ? 'AND d.id = $3' : ''} ORDER BY l.attached_at, d.id`,
      documentId ? [accountId, interactionId, documentId] : [accountId, interactionId],
    );
  }

  files(accountId: string, interactionId: string): Promise<AttachedFile[]> {
    return this.ds.query(
      `SELECT f.name, f.filename, f.storage_key, f.content_type FROM interaction_file f JOIN interaction i ON i.id = f.interaction_id
        WHERE f.interaction_id = $1 AND i.account_id = $2 ORDER BY f.created_at, f.id`,
      [interactionId, accountId],
    );
  }
}
