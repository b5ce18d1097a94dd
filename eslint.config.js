// ESLint (flat config) with typescript-eslint's type-aware rules. `npm run lint` runs it and Prettier's
// check; `npm test` runs the lint first, so CI enforces both. Layout is Prettier's alone
// (.prettierrc.json): no stylistic rules here. scripts/format-all.sh applies both fixers to the tree.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'web/dist/', 'data/', 'test-artifacts/', 'bench/results/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
      parserOptions: {
        // Each file is checked against its nearest tsconfig.json: the root one for src/, test/, bench/
        // and scripts/, web/tsconfig.json for web/src. The few files outside both get a default project.
        projectService: { allowDefaultProject: ['*.js', 'bin/*.mjs', 'scripts/*.mjs', 'web/vite.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The two that catch real bugs: a promise nobody awaits (its rejection is lost, or it races the
      // next step) and a promise handed to a place that ignores it. node:test's test/describe/it
      // return promises the runner itself tracks, so calling them bare is the documented usage.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // Fastify plugins, hooks and handlers are async by convention (an async plugin finishes when it
      // resolves); many need no await, and the interface wants a promise either way.
      '@typescript-eslint/require-await': 'off',
      // Error sentences interpolate validated values that the validator types as unknown (ajv's params);
      // wrapping each in String() would add noise and catch nothing.
      '@typescript-eslint/restrict-template-expressions': 'off',
      // Here most assertions it calls unnecessary steer inference (Fastify's logger generic, `{} as
      // Record<…>` inside a literal, `res.json() as T` in tests): its --fix broke the type check.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // The parsers match control characters on purpose, to refuse them.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          caughtErrors: 'none',
          // A closed vocabulary is written once as a const list (`FOO_CODES = [...] as const`) and may
          // be used only through its element type.
          varsIgnorePattern: '^[A-Z][A-Z0-9_]*_CODES$',
        },
      ],
    },
  },
  {
    // Kysely's migrations are written against Kysely<any> (a migration must not depend on today's
    // schema types), and the migration files are frozen.
    files: ['src/db/migrate.ts', 'src/db/migrations/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests read response bodies as JSON (`any`) and assert on them: the assertion is the type check.
    // Plain .mjs scripts have no types to be unsafe about.
    files: ['test/**/*.ts', '**/*.mjs', '**/*.js'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  {
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      // The two classic hook rules, not the React Compiler set (the console is not built with it).
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      // React ignores what an event handler returns; the console's async handlers report their own
      // failures (useAction catches and shows them), so a promise-returning onClick/onSubmit is fine.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
    },
  },
);
