/**
 * Tests run against the compiled build (dist/) for processes, and ts-jest for
 * in-process units; globalSetup builds dist/ first.
 *
 * Two projects, run by one `jest` (`npm test`) in parallel workers:
 * - unit: in-process, short timeouts;
 * - integration: real controllers, agents, fixture services, browsers.
 * Files that measure time against a known truth say `@runAlone` and run with
 * nothing beside them (__tests__/setup/run-alone.ts); the sequencer runs them last.
 */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  setupFilesAfterEnv: ['<rootDir>/__tests__/setup/run-alone.ts'],
};

module.exports = {
  globalSetup: '<rootDir>/__tests__/global-setup.js',
  globalTeardown: '<rootDir>/__tests__/global-teardown.js',
  testTimeout: 120_000,
  testSequencer: '<rootDir>/__tests__/setup/sequencer.js',
  // most files wait on real services and sockets, not on CPU: more workers than cores pay
  maxWorkers: Number(process.env.JEST_WORKERS ?? 4),
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'], setupFilesAfterEnv: [...common.setupFilesAfterEnv, '<rootDir>/__tests__/setup/unit-timeout.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/__tests__/integration/**/*.test.ts'] },
  ],
};
