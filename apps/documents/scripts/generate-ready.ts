/**
 * Writes the ready-made documents into apps/documents/assets/ready. Run after changing a
 * builder, and commit the files: the service only streams them.
 *
 *   node -r @swc-node/register apps/documents/scripts/generate-ready.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { READY_ASSETS_DIR, READY_DOCUMENTS } from '../src/ready/ready-catalog';
import { READY_BUILDERS } from './ready-files';

export async function generateReadyDocuments(dir = READY_ASSETS_DIR): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const doc of READY_DOCUMENTS) {
    const build = READY_BUILDERS[doc.file];
    if (!build) throw new Error(`no builder for ${doc.file}`);
    const path = join(dir, doc.file);
    const bytes = await build();
    await writeFile(path, bytes);
    written.push(`${path} (${bytes.length} bytes)`);
  }
  return written;
}

if (require.main === module) {
  generateReadyDocuments().then(
    (written) => process.stdout.write(`${written.join('\n')}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
