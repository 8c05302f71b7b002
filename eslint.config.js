import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'drizzle/',
      'src/graphql/__generated__/',
      'client/src/gql/',
      'test/relay/__generated__/',
      'web/dist/',
      'test-artifacts/',
      '.parley/',
      'coverage/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
      eqeqeq: ['error', 'smart'],
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read settings through src/config.ts.' },
      ],
    },
  },
  {
    files: [
      'src/config.ts',
      'test/**',
      'bench/**',
      'vitest.config.ts',
      'codegen.ts',
      'drizzle.config.ts',
      'scripts/**',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['src/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'graphql',
                'graphql/*',
                '@apollo/*',
                'express',
                'ws',
                'ioredis',
                'graphql-ws',
                '**/graphql/**',
                '**/server.js',
              ],
              message: 'src/domain knows no transport.',
            },
          ],
        },
      ],
    },
  },
);
