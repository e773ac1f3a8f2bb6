// Lint rules, including the walls of the one-way flow:
// CLI -> api client -> controller api -> tasks -> modes -> agents -> metrics -> reports -> storage.
// src/contract is the only module both sides import, and it imports nothing of ours.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

const importX = require('eslint-plugin-import-x');

/**
 * The walls are zones on resolved paths (import-x/no-restricted-paths), so an
 * upward import is refused at any depth: `../../tasks/manager` from
 * controller/agent/llm/ is caught as well as `../tasks/manager`.
 */
const layer = (dir) => `./controller/${dir}`;
const zone = (target, from, message) => ({ target, from, message });
const below = (dir, above, message) => zone(layer(dir), above.map(layer), message);
const CLIENT_ONLY = ['./src/cli', './src/api', './src/output', './src/statsview'];
const ZONES = [
  zone('./src/contract', [...CLIENT_ONLY, './controller', './fixtures', './bench', './__tests__'], 'src/contract imports nothing of the project'),
  zone('./src', ['./controller'], 'the client talks to the controller only through its API'),
  zone('./controller', CLIENT_ONLY, 'the controller imports only src/contract from the client side'),
  below('tasks', ['api'], 'tasks must not import the API layer'),
  below('modes', ['api', 'tasks'], 'modes sit below the API and tasks'),
  below('agents', ['api', 'tasks', 'modes'], 'agents sit below modes'),
  below('agent', ['api', 'tasks', 'modes', 'agents', 'reports', 'storage', 'data'], 'the agent process never touches storage or the API'),
  below('metrics', ['api', 'tasks', 'modes', 'agents', 'agent', 'reports', 'storage', 'data'], 'metrics sit below agents'),
  below('reports', ['api', 'tasks', 'modes', 'agents', 'agent', 'data'], 'reports sit below metrics'),
  below('storage', ['api', 'tasks', 'modes', 'agents', 'agent', 'metrics', 'reports', 'data'], 'storage is the bottom layer'),
];

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
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js', '.json'] })] },
    rules: { 'import-x/no-restricted-paths': ['error', { basePath: __dirname, zones: ZONES }] },
  },
);
