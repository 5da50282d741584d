import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ContractorSnapshot, OrganizationSnapshot } from '@papka/contracts';
import type { DocumentEntity } from '../documents/document.entity';
import { documentFromRow, type DocumentRow, type RowVersions } from '../documents/documents.repository';
import type { ContractorReplica } from '../replicas/contractor-replica.entity';
import type { Upload } from '../uploads/upload.entity';
import { UPLOAD_JOIN_COLUMNS, uploadFromJoin, type UploadJoinRow } from '../uploads/uploads.repository';

/** Everything a render reads, as of one moment. */
export interface RenderInput {
  doc: DocumentEntity;
  contractor: ContractorSnapshot | null;
  /** The replica's name, INN and address, as the document's events carry them (null: no replica). */
  replica: Pick<ContractorReplica, 'name' | 'inn' | 'address'> | null;
  /** The document row's and the replica's versions as read, for the outcome's guarded write. */
  versions: RowVersions;
  organization: OrganizationSnapshot | null;
  /** The account's template the document was made from (null: none, a built-in, or deleted since). */
  template: { filename: string; font: string } | null;
  /** The uploaded file the template (or the document itself) is made of, when it still exists. */
  upload: Upload | null;
}

interface Row extends DocumentRow, UploadJoinRow {
  row_version: string;
  contractor_snapshot: ContractorSnapshot | null;
  c_version: string | null;
  c_name: string | null;
  c_inn: string | null;
  c_address: string | null;
  organization_snapshot: OrganizationSnapshot | null;
  t_filename: string | null;
  t_font: string | null;
}

/** The rows a render reads (the document and the other features' rows it needs), in one statement. */
@Injectable()
export class RenderInputRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async find(accountId: string, documentId: string): Promise<RenderInput | null> {
    const rows: Row[] = await this.ds.query(
      `SELECT d.*, d.xmin::text AS row_version, cr.snapshot AS contractor_snapshot,
              cr.version AS c_version, cr.name AS c_name, cr.inn AS c_inn, cr.address AS c_address, o.snapshot AS organization_snapshot,
              t.filename AS t_filename, t.font AS t_font,
              ${UPLOAD_JOIN_COLUMNS}
         FROM document d
         LEFT JOIN contractor_replica cr ON cr.account_id = d.account_id AND cr.id = d.contractor_id
         LEFT JOIN organization_replica o ON o.account_id = d.account_id
         LEFT JOIN template t ON t.account_id = d.account_id AND t.id = d.template_id
         LEFT JOIN upload u ON u.account_id = d.account_id AND u.filename = COALESCE(t.filename, d.source_filename)
        WHERE d.id = $1 AND d.account_id = $2`,
      [documentId, accountId],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      doc: documentFromRow(r),
      contractor: r.contractor_snapshot,
      replica: r.c_version !== null ? { name: r.c_name!, inn: r.c_inn, address: r.c_address } : null,
      versions: { row: r.row_version, contractor: r.c_version },
      organization: r.organization_snapshot,
      template: r.t_filename !== null ? { filename: r.t_filename, font: r.t_font ?? 'Arial' } : null,
      upload: uploadFromJoin(accountId, r),
    };
  }
}
