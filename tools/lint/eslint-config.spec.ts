import { execFileSync } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..');

interface Finding {
  ruleId: string | null;
  message: string;
}

/**
 * Lints each `code` as if it were the file at `filePath` (which need not exist), with the real
 * eslint.config.mjs. It runs in a child Node because ESLint loads its config with a native
 * `import()`, which Jest's module VM does not provide. Type information is off: a virtual file
 * belongs to no tsconfig program, parsing the repo with types takes ~10 s, and the boundary
 * rules under test do not use it.
 */
const LINT_SCRIPT = `
  const { ESLint } = require('eslint');
  const cases = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
  const eslint = new ESLint({
    cwd: process.cwd(),
    overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
    ruleFilter: ({ ruleId }) => ['@nx/enforce-module-boundaries', 'no-restricted-imports', 'import-x/no-cycle'].includes(ruleId),
  });
  (async () => {
    const out = [];
    for (const c of cases) {
      const [result] = await eslint.lintText(c.code, { filePath: c.filePath });
      out.push(result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message })));
    }
    process.stdout.write(JSON.stringify(out));
  })();
`;

const importing = (what: string, from: string) => `import { ${what} } from '${from}';\nexport default ${what};\n`;

const PURE_LIBS = ['ru', 'storage', 'persistence', 'render-pool', 'http-client'];
const CASES = {
  ...Object.fromEntries(PURE_LIBS.map((lib) => [`nest in ${lib}`, { filePath: `libs/${lib}/src/x.ts`, code: importing('Injectable', '@nestjs/common') }])),
  'nest in platform': { filePath: 'libs/platform/src/x.ts', code: importing('Injectable', '@nestjs/common') },
  'testing in app code': { filePath: 'apps/contractors/src/x.ts', code: importing('freePort', '@papka/testing') },
  'testing in lib code': { filePath: 'libs/messaging/src/x.ts', code: importing('freePort', '@papka/testing') },
  'testing in a unit spec': { filePath: 'apps/contractors/src/x.spec.ts', code: importing('freePort', '@papka/testing') },
  'testing in an integration spec': { filePath: 'apps/contractors/test/x.int-spec.ts', code: importing('freePort', '@papka/testing') },
  'embedded imports an app internal': {
    filePath: 'tools/embedded/x.ts',
    code: importing('announceContractors', '../../apps/contractors/src/contractors/contractors.announce'),
  },
  'bench imports an app internal': { filePath: 'bench/x.ts', code: importing('AppModule', '../apps/gateway/src/app.module') },
  'embedded imports a bootstrap': { filePath: 'tools/embedded/x.ts', code: importing('bootstrap', '../../apps/contractors/src/bootstrap') },
  'bench imports a bootstrap': { filePath: 'bench/x.ts', code: importing('bootstrap', '../apps/gateway/src/bootstrap') },
  'an app imports another bootstrap': { filePath: 'apps/gateway/src/x.ts', code: importing('bootstrap', '../../contractors/src/bootstrap') },
  'nest in a finance connector': { filePath: 'apps/finance-sync/src/connectors/x/x.connector.ts', code: importing('Injectable', '@nestjs/common') },
  'typeorm in a finance connector': { filePath: 'apps/finance-sync/src/connectors/x/x.connector.ts', code: importing('DataSource', 'typeorm') },
  'testing in a finance connector': { filePath: 'apps/finance-sync/src/connectors/x/x.connector.ts', code: importing('freePort', '@papka/testing') },
  'nest in the finance engine': { filePath: 'apps/finance-sync/src/engine/x.ts', code: importing('Injectable', '@nestjs/common') },
  // The entity file as if it imported the repository, which imports the entity file (on disk).
  'an import cycle': { filePath: 'apps/contractors/src/contractors/contractor.entity.ts', code: importing('ContractorsRepository', './contractors.repository') },
  'an acyclic import': { filePath: 'apps/contractors/src/contractors/x.ts', code: importing('ContractorsRepository', './contractors.repository') },
};

describe('eslint.config.mjs', () => {
  let findings: Record<string, Finding[]>;

  beforeAll(() => {
    // @nx/enforce-module-boundaries reads the cached project graph and skips every file when
    // there is none; refresh it so new or retagged projects count (about half a second).
    execFileSync(process.execPath, [path.join(REPO, 'node_modules/nx/bin/nx.js'), 'show', 'projects'], {
      cwd: REPO,
      env: { ...process.env, NX_DAEMON: 'false' },
      stdio: 'ignore',
    });
    const names = Object.keys(CASES);
    const out = execFileSync(process.execPath, ['-e', LINT_SCRIPT], {
      cwd: REPO,
      input: JSON.stringify(Object.values(CASES)),
      encoding: 'utf8',
    });
    const results = JSON.parse(out) as Finding[][];
    findings = Object.fromEntries(names.map((n, i) => [n, results[i]]));
  }, 60_000);

  const boundaryError = (text: string) => expect.objectContaining({ ruleId: '@nx/enforce-module-boundaries', message: expect.stringContaining(text) });

  it.each(PURE_LIBS)('fails on a @nestjs import in the kind:pure lib %s', (lib) => {
    expect(findings[`nest in ${lib}`]).toContainEqual(boundaryError('A project tagged with "kind:pure" is not allowed to import "@nestjs/common"'));
  });

  it('allows @nestjs in a lib that is not kind:pure', () => {
    expect(findings['nest in platform']).toEqual([]);
  });

  it.each(['testing in app code', 'testing in lib code'])('fails on @papka/testing in production code (%s)', (name) => {
    expect(findings[name]).toContainEqual(expect.objectContaining({ ruleId: 'no-restricted-imports', message: expect.stringContaining("'@papka/testing'") }));
  });

  it.each(['testing in a unit spec', 'testing in an integration spec'])('allows @papka/testing in tests (%s)', (name) => {
    expect(findings[name]).toEqual([]);
  });

  it.each(['embedded imports an app internal', 'bench imports an app internal'])('fails when a tool imports an app file other than its bootstrap (%s)', (name) => {
    expect(findings[name]).toContainEqual(boundaryError('Projects cannot be imported by a relative or absolute path'));
  });

  it.each(['embedded imports a bootstrap', 'bench imports a bootstrap'])('allows a tool to import an app bootstrap (%s)', (name) => {
    expect(findings[name]).toEqual([]);
  });

  it.each(['nest in a finance connector', 'typeorm in a finance connector'])('fails on Nest or TypeORM in a finance-sync connector (%s)', (name) => {
    expect(findings[name]).toContainEqual(expect.objectContaining({ ruleId: 'no-restricted-imports', message: expect.stringContaining('connectors are pure') }));
  });

  it('keeps @papka/testing out of finance-sync connectors too, and allows Nest in the engine', () => {
    expect(findings['testing in a finance connector']).toContainEqual(expect.objectContaining({ ruleId: 'no-restricted-imports', message: expect.stringContaining("'@papka/testing'") }));
    expect(findings['nest in the finance engine']).toEqual([]);
  });

  it('keeps the bootstrap allowance to tools: an app importing another app bootstrap fails', () => {
    expect(findings['an app imports another bootstrap']).toContainEqual(boundaryError('Projects cannot be imported by a relative or absolute path'));
  });

  it('fails on an import cycle among our own files (relative .ts imports resolved), and passes an acyclic import', () => {
    expect(findings['an import cycle']).toContainEqual(expect.objectContaining({ ruleId: 'import-x/no-cycle' }));
    expect(findings['an acyclic import']).toEqual([]);
  });
});
