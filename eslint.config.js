// ESLint flat config: TypeScript rules for the Node parts and tests; the Salesforce LWC rules for
// the admin tab's components (force-app/**/lwc).
import tseslint from 'typescript-eslint';
import globals from 'globals';

// The admin tab's components are TypeScript: Salesforce's LWC rules with its TypeScript parser setup.
const lwcFiles = ['force-app/main/default/lwc/**/*.ts'];
const { default: lwcRecommendedTs } = await import('@salesforce/eslint-config-lwc/recommended-ts.js');
const lwcConfigs = [
  ...lwcRecommendedTs.map((c) => ({ ...c, files: lwcFiles })),
  // tsc checks names (types included), which no-undef cannot see through.
  { files: lwcFiles, rules: { 'no-undef': 'off' } },
];

export default [
  {
    ignores: [
      '**/node_modules/**',
      'results/**',
      'coverage/**',
      '.preview-build/**',
      'force-app/main/default/lwc/**/*.js',
      'preview/dist/**',
      'middleware/dist/**',
    ],
  },
  ...tseslint.configs.recommended.map((c) => ({ ...c, files: ['**/*.ts'], ignores: lwcFiles })),
  {
    files: ['**/*.ts'],
    ignores: lwcFiles,
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // The service is typed throughout (Salesforce answers included: salesforce/client.ts); tests may still use any.
  { files: ['middleware/src/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'error' } },
  ...lwcConfigs,
  {
    files: ['force-app/main/default/lwc/**/__tests__/**/*.ts', 'test/jest-*/**/*.{js,ts}', 'test/jest-setup.js'],
    languageOptions: { globals: { ...globals.jest, ...globals.browser } },
    // Tests drive wire adapters directly through sfdx-lwc-jest's test adapters (emit, getLastConfig).
    rules: { '@lwc/lwc/no-unexpected-wire-adapter-usages': 'off' },
  },
  { files: ['preview/client/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
];
