// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.check.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // Fastify plugins and hooks are async by contract, whether or not they await.
      '@typescript-eslint/require-await': 'off',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through the service config (src/config.ts) only.',
        },
      ],
    },
  },
  {
    // Plain Node scripts outside the TypeScript projects: linted, but without type information.
    files: ['scripts/**/*.mjs', 'tests/**/fixtures/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', setTimeout: 'readonly', setInterval: 'readonly' },
    },
  },
  {
    files: [
      'services/*/src/config.ts',
      // The standard OTEL_* variables, read before anything else is loaded (see services/*/src/main.ts).
      'services/*/src/tracing.ts',
      'tools/src/*/config.ts',
      'simulators/src/config.ts',
      'packages/testing/**',
      '**/test/**',
      'tests/**',
      '**/bench/**',
      'vitest.config.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  ...workspaceBoundaries(),
);

/**
 * No relative import crosses a workspace root (packages/*, services/*, simulators, tests, tools): code
 * reaches another workspace through its package name and `exports`, so each one's public surface is what
 * it exports. A file `d` folders below its workspace's root leaves it with `d + 1` steps up; one block per
 * depth says so. Packages also never import services.
 */
function workspaceBoundaries() {
  const crossing =
    'Import another workspace by its package name (@platform/…, @services/…), not by a relative path.';
  const packagesNeverImportServices = {
    group: ['**/services/**', '@services/*'],
    message: 'Packages never import services.',
  };
  return Array.from({ length: 6 }, (_, depth) => {
    const below = '*/'.repeat(depth);
    const escapes = { regex: `^(\\.\\./){${depth + 1}}`, message: crossing };
    return [
      {
        files: [
          `services/*/${below}*.ts`,
          `simulators/${below}*.ts`,
          `tests/${below}*.ts`,
          `tools/${below}*.ts`,
        ],
        rules: { 'no-restricted-imports': ['error', { patterns: [escapes] }] },
      },
      {
        files: [`packages/*/${below}*.ts`],
        rules: { 'no-restricted-imports': ['error', { patterns: [escapes, packagesNeverImportServices] }] },
      },
    ];
  }).flat();
}
