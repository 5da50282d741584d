import { RouteTable } from './route-table';
import { ROUTES } from './routes';

describe(RouteTable.name, () => {
  const sut = new RouteTable(ROUTES);

  it('routes a contractor path to contractors', () => {
    expect(sut.match('GET', '/v2/docs/contractors/0b7c8f1e-9a51-4c3e-a4a6-5d3f4d6e7a8b')).toMatchObject({
      kind: 'found',
      route: { upstream: 'contractors' },
    });
  });

  it('tells the nested documents list apart from the contractor itself', () => {
    expect(sut.match('GET', '/v2/docs/contractors/abc/documents')).toMatchObject({ route: { upstream: 'documents' } });
    expect(sut.match('GET', '/v2/docs/contractors/abc/interactions')).toMatchObject({ route: { upstream: 'interactions' } });
  });

  it('answers method-not-allowed with the allowed methods', () => {
    expect(sut.match('PUT', '/v2/docs/templates')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'POST'] });
  });

  it('does not match unknown paths or partial segments', () => {
    expect(sut.match('GET', '/v2/docs/contractorsX')).toEqual({ kind: 'not-found' });
    expect(sut.match('GET', '/v2/docs/contractors/a/b/c')).toEqual({ kind: 'not-found' });
  });

  it('covers every path of reference 000', () => {
    const reference = [
      'POST /v2/docs/upload', 'POST /v2/docs/findOrg', 'GET /v2/docs/findBank', 'GET /v2/contractors',
      'GET /v2/docs/contractors/x', 'POST /v2/docs/contractors/x/bank', 'POST /v2/docs/contractors/x/contact',
      'DELETE /v2/docs/contractors/x', 'DELETE /v2/docs/contractors/x/bank', 'DELETE /v2/docs/contractors/x/contact',
      'GET /v2/docs/contractors/x/documents', 'GET /v2/docs/contractors/x/interactions', 'POST /v2/docs/contractors',
      'GET /v2/docs/ready', 'POST /v2/docs/constructor', 'POST /v2/docs/templates', 'GET /v2/docs/templates',
      'DELETE /v2/docs/templates/x', 'GET /v2/docs/documents', 'DELETE /v2/docs/documents/x',
      'GET /v2/docs/documents/x/download', 'POST /v2/docs/documents/x', 'GET /v2/docs/interactions',
      'DELETE /v2/docs/document/x', 'POST /v2/docs/interactions', 'POST /v2/docs/interactions/x/desc',
      'POST /v2/docs/interactions/x/status', 'POST /v2/docs/interactions/x/payments',
      'POST /v2/docs/interactions/x/documents', 'POST /v2/docs/interactions/x/files',
      'POST /v2/docs/interactions/x/download', 'DELETE /v2/docs/interactions/x',
    ];
    for (const line of reference) {
      const [method, path] = line.split(' ');
      expect({ line, kind: sut.match(method, path).kind }).toEqual({ line, kind: 'found' });
    }
  });
});
