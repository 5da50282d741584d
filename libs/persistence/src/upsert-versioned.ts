import type { EntityManager } from 'typeorm';

export interface UpsertVersionedOptions {
  /** The unique columns the row is matched on, e.g. `['id']`. */
  conflict: string[];
  /** The column holding the producer's version; default `version`. */
  version?: string;
  /** Extra SQL condition on the existing row, e.g. `NOT document_replica.deleted` (a tombstone stays). */
  guard?: string;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

function ident(name: string): string {
  // Names come from code, never from input; still, refuse anything that is not a plain identifier.
  if (!IDENT.test(name)) throw new Error(`upsertVersioned: not a plain SQL identifier: ${name}`);
  return name;
}

/**
 * The replica write every read model uses: insert the row, or overwrite every other column of
 * the existing one unless it already holds a newer version. So a late, older event never
 * overwrites a newer state, and a replayed one rewrites what is there (handlers stay idempotent
 * without the inbox). Returns whether the row was written.
 */
export async function upsertVersioned(
  m: EntityManager,
  table: string,
  row: Record<string, unknown>,
  o: UpsertVersionedOptions,
): Promise<boolean> {
  const t = ident(table);
  const version = ident(o.version ?? 'version');
  const columns = Object.keys(row).map(ident);
  if (!columns.includes(version)) throw new Error(`upsertVersioned(${t}): the row has no ${version} column`);
  const conflict = o.conflict.map(ident);
  const updates = columns.filter((c) => !conflict.includes(c)).map((c) => `${c} = excluded.${c}`);
  const guard = `${t}.${version} <= excluded.${version}${o.guard ? ` AND (${o.guard})` : ''}`;
  const written: unknown[] = await m.query(
    `INSERT INTO ${t} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
     ON CONFLICT (${conflict.join(', ')}) DO UPDATE SET ${updates.join(', ')}
     WHERE ${guard}
     RETURNING 1`,
    columns.map((c) => row[c]),
  );
  return written.length > 0;
}
