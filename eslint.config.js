// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules', 'src/generated', '.tools', '.data', 'artifacts', 'dist'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O.
    // It imports src/contract and `import type` of src/activities only; dependency-cruiser
    // (npm run deps:check, docs/architecture.md) checks the same and the npm packages too.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code must not use Node built-ins.' })),
          patterns: [
            { group: ['**/activities', '**/activities/**'], message: 'Workflows import activity types only (import type).', allowTypeImports: true },
            {
              group: [
                'infra', 'http', 'system', 'config', 'validation', 'generated',
                'mail', 'webhooks', 'tenants', 'relationships', 'partners',
                'partnerApi', 'customerPages', 'operator', 'apiDocs',
              ].flatMap((folder) => [`**/${folder}`, `**/${folder}/**`]),
              message: 'Workflow code imports src/contract only (and activity types): this folder does I/O or pulls packages into the Temporal sandbox.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['eslint.config.js', '.dependency-cruiser.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
