// Lint as errors what bites in async Nest/TypeORM code, and keep the architecture honest:
// apps never import apps, shared libs import only shared libs (Nx tags on every project),
// pure libs stay free of NestJS, test helpers stay out of production code, and tools reach
// into an app only through its bootstrap. tools/lint/eslint-config.spec.ts shows each boundary failing.
import nx from '@nx/eslint-plugin';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
  // Framework-free libs (ru, storage, persistence, render-pool, http-client) run anywhere: no NestJS.
  { sourceTag: 'kind:pure', bannedExternalImports: ['@nestjs/*'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:shared', 'scope:gateway'] },
  { sourceTag: 'scope:contractors', onlyDependOnLibsWithTags: ['scope:shared', 'scope:contractors'] },
  { sourceTag: 'scope:documents', onlyDependOnLibsWithTags: ['scope:shared', 'scope:documents'] },
  { sourceTag: 'scope:interactions', onlyDependOnLibsWithTags: ['scope:shared', 'scope:interactions'] },
  { sourceTag: 'scope:finance-sync', onlyDependOnLibsWithTags: ['scope:shared', 'scope:finance-sync'] },
];

/** @param {string[]} allow imports exempt from the rule (regular expressions) */
const moduleBoundaries = (allow) => ['error', { enforceBuildableLibDependency: false, allow, depConstraints }];

/** What bites in async code, for TypeScript and for the type-checked .mjs of tools/infra alike. */
const asyncAndStyle = {
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
  '@typescript-eslint/switch-exhaustiveness-check': 'error',
  eqeqeq: ['error', 'always'],
  'no-console': 'error',
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
};

export default tseslint.config(
  {
    // tools/infra is plain JS (it runs before `npm install`), type-checked by its own tsconfig.
    ignores: ['**/node_modules/**', '**/dist/**', '.cache/**', '.papka-data/**', 'coverage/**', '**/*.js', '**/*.mjs', '!tools/infra/**/*.mjs', '**/*.d.ts'],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', 'tools/infra/**/*.mjs'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: asyncAndStyle,
  },
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx, 'import-x': importX },
    // Resolves relative `.ts` imports and the `@papka/*` paths of tsconfig.base.json, so no-cycle
    // sees our own import graph (with the legacy node resolver it resolved none of it).
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.base.json' })],
    },
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries([]),
      // A package's own files are not walked (lru-cache 11's ESM files crashed the rule).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // The embedded launcher and the benchmarks start whole services: an app's bootstrap
    // (apps/<svc>/src/bootstrap.ts) is the one file of it they may import. Anything else
    // inside an app fails as a relative import across projects.
    files: ['tools/embedded/**/*.ts', 'bench/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries(['^(\\.\\./)+apps/[\\w-]+/src/bootstrap$']) },
  },
  {
    // Test helpers (fake servers, factories, infra harness) never ship in a service or lib.
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', 'libs/testing/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: '@papka/testing', message: 'test helpers belong in *.spec.ts and test/, not in production code' }] }],
    },
  },
  {
    // Connectors (apps/finance-sync/src/connectors/**) are pure: a target's calls and mapping, no
    // Nest and no TypeORM (nor the libs built on them); the engine owns the database and the DI.
    // Repeats the @papka/testing rule, as a later block's options replace the earlier ones.
    files: ['apps/finance-sync/src/connectors/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@papka/testing', message: 'test helpers belong in *.spec.ts and test/, not in production code' }],
          patterns: [
            {
              group: ['@nestjs/*', 'typeorm', 'typeorm/*', '@papka/messaging', '@papka/persistence', '@papka/platform', '@papka/auth'],
              message: 'finance-sync connectors are pure: no Nest, no TypeORM (the engine provides what a connector needs through the port)',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests and tooling may print and reach into anything.
    files: ['**/*.spec.ts', '**/*.int-spec.ts', 'tools/**/*.ts', 'bench/**/*.ts', 'libs/testing/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
