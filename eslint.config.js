// Lint rules, including the walls between the programs and the one-way flow inside the controller:
// CLI -> api client -> controller api -> tasks -> modes -> fleet -> metrics -> reports -> storage.
// src/contract and src/measure are the only modules more than one program imports;
// src/contract imports nothing of ours, src/measure only src/contract.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

const importX = require('eslint-plugin-import-x');

/**
 * The walls are zones on resolved paths (import-x/no-restricted-paths), so an
 * upward import is refused at any depth: `../../tasks/manager` from
 * controller/fleet/kubernetes/ is caught as well as `../tasks/manager`.
 * A zone forbids files under `target` to import anything under `from`.
 */
const layer = (dir) => `./controller/${dir}`;
const zone = (target, from, message) => ({ target, from, message });
const below = (dir, above, message) => zone(layer(dir), above.map(layer), message);
const CLIENT_ONLY = ['./src/cli', './src/api', './src/output', './src/statsview'];
/** The controller's root files that wire it: main.ts starts it, app.ts assembles it; nothing else imports them. */
const WIRING = ['app.ts', 'main.ts'];
/** The controller's root files below every layer: options, credentials, nonces, the service registry, the version. */
const GROUND = ['config.ts', 'credentials.ts', 'nonces.ts', 'services.ts', 'version.ts'];
const LAYERS = ['api', 'tasks', 'modes', 'fleet', 'metrics', 'reports'];
const ZONES = [
  zone('./src/contract', [...CLIENT_ONLY, './src/measure', './controller', './agent', './fixtures', './bench', './__tests__'], 'src/contract imports nothing of the project'),
  zone('./src/measure', [...CLIENT_ONLY, './controller', './agent', './fixtures', './bench', './__tests__'], 'src/measure imports only src/contract'),
  zone('./src', ['./controller', './agent'], 'the client talks to the controller only through its API, and never to the agent'),
  zone('./agent', ['./controller', ...CLIENT_ONLY, './fixtures'], 'the agent is its own program: it imports only src/contract, src/measure and its own files'),
  zone('./controller', [...CLIENT_ONLY, './agent'], 'the controller imports only src/contract and src/measure from outside, and starts the agent as a process'),
  zone(layer('app.ts'), [layer('main.ts')], 'main.ts starts the controller that app.ts assembles'),
  zone([...LAYERS, 'storage', 'data', ...GROUND].map(layer), WIRING.map(layer), 'only main.ts imports app.ts, and nothing imports main.ts'),
  zone(GROUND.map(layer), [...LAYERS, ...WIRING].map(layer), "the controller's root files sit below every layer: they import only storage/, data/ and src/"),
  below('tasks', ['api'], 'tasks must not import the API layer'),
  below('modes', ['api', 'tasks'], 'modes sit below the API and tasks'),
  below('fleet', ['api', 'tasks', 'modes'], 'the fleet sits below modes'),
  below('metrics', ['api', 'tasks', 'modes', 'fleet', 'reports', 'storage', 'data'], 'metrics sit below the fleet'),
  below('reports', ['api', 'tasks', 'modes', 'fleet', 'data'], 'reports sit below metrics'),
  below('storage', ['api', 'tasks', 'modes', 'fleet', 'metrics', 'reports', 'data', ...GROUND], 'storage is the bottom layer'),
  below('data', ['api', 'tasks', 'modes', 'fleet', 'metrics', 'reports', 'storage', ...GROUND], 'task data sources import only src/contract'),
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
    settings: {
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
      // the files no-cycle parses to follow imports (by default only .js)
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: __dirname, zones: ZONES }],
      // it skips type-only imports; __tests__/unit/lint-walls.test.ts walks those too
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
);
