import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { MaskDef } from '@papka/contracts';
import type { ContractorReplica } from '../replicas/contractor-replica.entity';
import type { Template } from '../templates/template.entity';
import type { Upload } from '../uploads/upload.entity';
import { UPLOAD_JOIN_COLUMNS, uploadFromJoin, type UploadJoinRow } from '../uploads/uploads.repository';

/** What the constructor reads before it writes, as of one moment. */
export interface ConstructorInput {
  /** The contractor's replica (null: unknown to this account). */
  contractor: ContractorReplica | null;
  /** The account's template asked for (null: none asked, a built-in, or not the account's). */
  template: Template | null;
  /** The upload asked for as the template (null: none asked, or not the account's). */
  upload: Upload | null;
  /** The organisation's default VAT for documents that name none (null: none set, or no organisation yet). */
  organizationVatRate: string | null;
}

interface Row extends UploadJoinRow {
  c_id: string | null;
  c_name: string | null;
  c_inn: string | null;
  c_address: string | null;
  c_snapshot: object | null;
  c_deleted: boolean | null;
  c_version: string | null;
  t_id: string | null;
  t_name: string | null;
  t_filename: string | null;
  t_kind: Template['kind'] | null;
  t_masks: MaskDef[] | null;
  t_font: string | null;
  t_created_at: Date | null;
  o_vat_rate: string | null;
}

/** The rows of other features the constructor needs (replica, template, upload, the organisation's VAT), in one statement. */
@Injectable()
export class ConstructorInputRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** `templateId`: an account template's id (not a built-in's); `filename`: an upload's name. */
  async find(accountId: string, contractorId: string, templateId: string | null, filename: string | null): Promise<ConstructorInput> {
    const [r]: Row[] = await this.ds.query(
      `SELECT cr.id AS c_id, cr.name AS c_name, cr.inn AS c_inn, cr.address AS c_address, cr.snapshot AS c_snapshot,
              cr.deleted AS c_deleted, cr.version AS c_version,
              t.id AS t_id, t.name AS t_name, t.filename AS t_filename, t.kind AS t_kind, t.masks AS t_masks, t.font AS t_font,
              t.created_at AS t_created_at, o.snapshot->>'vatRate' AS o_vat_rate,
              ${UPLOAD_JOIN_COLUMNS}
         FROM (SELECT 1) one
         LEFT JOIN contractor_replica cr ON cr.account_id = $1 AND cr.id = $2
         LEFT JOIN template t ON t.account_id = $1 AND t.id = $3::uuid
         LEFT JOIN upload u ON u.account_id = $1 AND u.filename = $4::text
         LEFT JOIN organization_replica o ON o.account_id = $1`,
      [accountId, contractorId, templateId, filename],
    );
    return {
      contractor:
        r!.c_id !== null
          ? { id: r!.c_id, accountId, name: r!.c_name!, inn: r!.c_inn, address: r!.c_address, snapshot: r!.c_snapshot!, deleted: r!.c_deleted!, version: r!.c_version! }
          : null,
      template:
        r!.t_id !== null
          ? { id: r!.t_id, accountId, name: r!.t_name!, filename: r!.t_filename!, kind: r!.t_kind!, masks: r!.t_masks!, font: r!.t_font!, createdAt: r!.t_created_at! }
          : null,
      upload: uploadFromJoin(accountId, r!),
      organizationVatRate: r!.o_vat_rate,
    };
  }
}
