/**
 * Test-only: EASCMD_AGENT_TEST_BLOCK_LOOP_MS=N makes the agent block its own
 * event loop for N ms once a second (a busy wait), so that tests can prove
 * the validity gate marks such seconds generator-limited. Never set it in a
 * real run: every figure of the agent would be its own delay.
 */
export const TEST_BLOCK_LOOP_ENV = 'EASCMD_AGENT_TEST_BLOCK_LOOP_MS';
const BLOCK_EVERY_MS = 1000;

export function startTestHooks(env: NodeJS.ProcessEnv): void {
  const blockMs = Number(env[TEST_BLOCK_LOOP_ENV] ?? 0);
  if (!(blockMs > 0)) return;
  process.stderr.write(`eascmd-agent: ${TEST_BLOCK_LOOP_ENV}=${blockMs}: blocking the event loop ${blockMs} ms every second (test only)\n`);
  setInterval(() => {
    const until = performance.now() + blockMs;
    while (performance.now() < until) {
      // busy: the point is to hold the event loop
    }
  }, BLOCK_EVERY_MS).unref();
}
