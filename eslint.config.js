// Lint rules, including the walls of the one-way flow:
// CLI -> api client -> controller api -> tasks -> modes -> agents -> metrics -> reports -> storage.
// src/contract is the only module both sides import, and it imports nothing of ours.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

const wall = (files, groups, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group: groups, message }] }] },
});
const above = (dirs) => dirs.flatMap((d) => [`**/controller/${d}`, `**/controller/${d}/*`, `../${d}`, `../${d}/*`]);

module.exports = tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'coverage/**', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  wall(['src/contract/**'], ['../*', '!./*'], 'src/contract imports nothing of the project'),
  wall(['src/**'], ['**/controller', '**/controller/**'], 'the client talks to the controller only through its API'),
  wall(['controller/**'], ['**/src/cli/**', '**/src/api/**', '**/src/output/**', '**/src/statsview/**'], 'the controller imports only src/contract from the client side'),
  wall(['controller/tasks/**'], above(['api']), 'tasks must not import the API layer'),
  wall(['controller/modes/**'], above(['api', 'tasks']), 'modes sit below the API and tasks'),
  wall(['controller/agents/**'], above(['api', 'tasks', 'modes']), 'agents sit below modes'),
  wall(['controller/agent/**'], above(['api', 'tasks', 'modes', 'agents', 'reports', 'storage', 'data']), 'the agent process never touches storage or the API'),
  wall(['controller/metrics/**'], above(['api', 'tasks', 'modes', 'agents', 'agent', 'reports', 'storage', 'data']), 'metrics sit below agents'),
  wall(['controller/reports/**'], above(['api', 'tasks', 'modes', 'agents', 'agent', 'data']), 'reports sit below metrics'),
  wall(['controller/storage/**'], above(['api', 'tasks', 'modes', 'agents', 'agent', 'metrics', 'reports', 'data']), 'storage is the bottom layer'),
);
