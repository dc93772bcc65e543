// ESLint (flat config): the recommended JavaScript and typescript-eslint rules over every source, test, bench
// and script of the repository; `npm run lint` runs it with the formatter's check, and `npm test` runs that.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Build output, generated code (checked for drift instead) and what the repository does not own.
    ignores: ['**/dist/**', '**/node_modules/**', 'models/build/**', 'models/dist/**', 'protos/src/generated/**', 'bench/results/**', '.maas/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a parameter or binding that must exist but is not read (a callback's position, a rest sibling).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // A `let` assigned once but read earlier by a closure (a stop handler set up before the start) stays a let.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests read arbitrary JSON and YAML documents (manifests, API answers) and index into them freely.
    files: ['**/test/**/*.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // CommonJS files of the repository (the telemetry preloads run with --require).
    files: ['**/*.cjs', 'cli/bin/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
