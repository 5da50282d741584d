import PizZip from 'pizzip';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { READY_ASSETS_DIR, READY_DOCUMENTS } from '../src/ready/ready-catalog';
import { READY_BUILDERS } from './ready-files';

/** Entry name -> content: compares archives without caring how they were compressed. */
function entries(buf: Buffer): Record<string, string> {
  const zip = new PizZip(buf);
  return Object.fromEntries(Object.keys(zip.files).filter((n) => !zip.files[n].dir).map((n) => [n, zip.files[n].asBinary()]));
}

describe('ready documents generator', () => {
  it('shipped files are what the generator produces (run generate-ready.ts after changing a builder)', async () => {
    for (const doc of READY_DOCUMENTS) {
      const built = await READY_BUILDERS[doc.file]();
      expect({ file: doc.file, entries: entries(readFileSync(join(READY_ASSETS_DIR, doc.file))) }).toEqual({
        file: doc.file,
        entries: entries(built),
      });
    }
  });
});
