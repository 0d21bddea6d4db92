// ESLint flat config: TypeScript rules for the Node parts and tests; the Salesforce LWC rules for
// the admin tab's components (force-app/**/lwc).
import tseslint from 'typescript-eslint';
import globals from 'globals';

const lwcFiles = ['force-app/main/default/lwc/**/*.{js,ts}'];
let lwcConfigs = [];
try {
  const { default: lwcRecommended } = await import('@salesforce/eslint-config-lwc/recommended.js');
  lwcConfigs = (Array.isArray(lwcRecommended) ? lwcRecommended : [lwcRecommended]).map((c) => ({ ...c, files: lwcFiles }));
} catch {
  lwcConfigs = [];
}

export default [
  { ignores: ['**/node_modules/**', 'results/**', 'coverage/**', '.preview-build/**', 'force-app/main/default/lwc/**/*.js', 'preview/dist/**'] },
  ...tseslint.configs.recommended.map((c) => ({ ...c, files: ['**/*.ts'] })),
  {
    files: ['**/*.ts'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...lwcConfigs,
];
