import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { infra } from '@papka/testing';
import { fillDocxDetailed } from '../src/docx/docx-filler';
import { convertDocxToPdf, disposeLibreOfficeProfiles, findSoffice, LibreOfficeConversionError } from '../src/docx/libreoffice';
import { buildDocx, paragraph, REL_IMAGE } from '../src/docx/ooxml';

describe('convertDocxToPdf with the real LibreOffice', () => {
  let server: Server;
  let hits: string[];
  let base: string;

  beforeAll(async () => {
    // tools/infra installs LibreOffice with the Chromium component (idempotent, quick when done).
    await infra('up', 'chromium');
    const soffice = findSoffice();
    if (!soffice) throw new Error('LibreOffice (soffice) is not installed although tools/infra should have installed it');
    hits = [];
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((done) => server.close(done));
    await disposeLibreOfficeProfiles();
  });

  /** An image linked (not embedded) from a URL: LibreOffice fetches these on load by default. */
  function linkedImage(url: string): Buffer {
    const pic =
      '<w:p><w:r><w:drawing><wp:inline><wp:extent cx="952500" cy="952500"/><wp:docPr id="1" name="p"/>' +
      '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>' +
      '<pic:nvPicPr><pic:cNvPr id="1" name="p"/><pic:cNvPicPr/></pic:nvPicPr>' +
      '<pic:blipFill><a:blip r:link="rIdPic"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>' +
      '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="952500" cy="952500"/></a:xfrm><a:prstGeom prst="rect"/></pic:spPr>' +
      '</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>';
    return buildDocx({
      body: paragraph('Счёт № {{number}} для {{client}}') + pic,
      relationships: [{ id: 'rIdPic', type: REL_IMAGE, target: url, external: true }],
    });
  }

  it('converts a filled DOCX to PDF without fetching anything', async () => {
    const { docx, externalRelationshipsRemoved } = fillDocxDetailed(linkedImage(`${base}/filled.png`), { number: '15', client: 'ООО «Ромашка»' });
    expect(externalRelationshipsRemoved).toBe(1);
    const pdf = await convertDocxToPdf(docx);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(hits).toEqual([]);
  }, 90_000);

  it('does not fetch a linked image even from an unstripped DOCX (profile hardening)', async () => {
    const pdf = await convertDocxToPdf(linkedImage(`${base}/raw.png`));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(hits).toEqual([]);
  }, 90_000);

  it('fails cleanly on a file that is not a document', async () => {
    await expect(convertDocxToPdf(Buffer.from('\x00\x01garbage'))).rejects.toBeInstanceOf(LibreOfficeConversionError);
  }, 90_000);
});
