import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import jest from 'eslint-plugin-jest';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.nx/**', 'libs/contracts/src/generated/**', 'data/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@cloudstore/testing', message: 'Test helpers are for spec files.' }] },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through @cloudstore/config: one validated schema per app.',
        },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // Kinds: apps and tools import libs; libs import libs; nothing imports an app.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'scope:tooling'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'scope:tooling'] },
            // Scopes: who may use which lib. scope:testing is for spec files only (see
            // no-restricted-imports). Only the services that own data use scope:database
            // (TypeORM, pg): the gateway and the storage nodes hold no database connection.
            { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', 'scope:contracts', 'scope:testing'] },
            { sourceTag: 'scope:database', onlyDependOnLibsWithTags: ['scope:shared', 'scope:contracts'] },
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:shared', 'scope:contracts', 'scope:database'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:shared', 'scope:contracts', 'scope:testing'] },
            {
              sourceTag: 'scope:storage-node',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:contracts', 'scope:testing'],
            },
            {
              sourceTag: 'scope:auth',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:contracts', 'scope:database', 'scope:testing'],
            },
            {
              sourceTag: 'scope:metadata',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:contracts', 'scope:database', 'scope:testing'],
            },
            // The SDK is published on its own: it imports nothing of ours; the CLI only the SDK.
            { sourceTag: 'scope:client', onlyDependOnLibsWithTags: ['scope:testing'] },
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:client'] },
            // The web app runs in browsers: it speaks the REST API and imports nothing of ours.
            { sourceTag: 'scope:web', onlyDependOnLibsWithTags: [] },
            {
              sourceTag: 'scope:tooling',
              onlyDependOnLibsWithTags: ['scope:shared', 'scope:contracts', 'scope:database', 'scope:tooling', 'scope:testing'],
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/*.test-helper.ts', 'libs/testing/**/*.ts', 'e2e/**/*.ts'],
    plugins: { jest },
    rules: {
      ...jest.configs['flat/recommended'].rules,
      'jest/no-focused-tests': 'error',
      'jest/valid-title': ['error', { ignoreTypeOfDescribeName: true }],
      'no-restricted-imports': 'off',
      'jest/no-disabled-tests': 'error',
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*'] }],
      '@typescript-eslint/unbound-method': 'off',
      // Jest's asymmetric matchers (expect.any, expect.objectContaining) are typed any.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      'no-restricted-syntax': 'off',
    },
  },
  {
    files: ['libs/testing/**/*.ts'],
    rules: { 'jest/no-export': 'off' },
  },
  {
    // The one place that reads the environment; test runners, which hand it on; and the CLI, a
    // client whose CLOUDSTORE_* and XDG_CONFIG_HOME are a user's settings, not a service's.
    files: ['libs/config/src/**/*.ts', 'e2e/**/*.js', 'apps/cli/src/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.mts'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false },
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' },
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
      '@nx/enforce-module-boundaries': 'off',
    },
  },
);
