import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      'no-restricted-imports': ['error', {
        patterns: [{
          // Enter a folder through its index.ts: reaching into another domain's files is not allowed.
          regex: '^(\\.\\./)+(errors|lib|gotemplate|oci|db|sys|events|content|archive|snapshots|images|builder|registry|logs|runtime|containers|containerfs|network|volumes|api|client|daemon|cli)/(?!(?:[a-z-]+/){0,2}index\\.js$).+',
          message: 'Import another folder through its index.js.',
        }],
      }],
    },
  },
  { files: ['src/cli/**', 'src/cmd/**', 'test/**', 'bench/**', 'scripts/**'], rules: { 'no-console': 'off' } },
)
