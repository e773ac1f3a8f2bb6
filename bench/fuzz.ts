import { fuzzController } from '../__tests__/helpers/fuzz';
import { startController, startFixture } from '../__tests__/helpers/processes';
import { runScript } from './tools';

/**
 * `npm run fuzz`: a time-boxed fuzz run (FUZZ_SECONDS, default 60) against a
 * real controller process and a fixture service on 127.0.0.1. Exits 1 when the
 * controller died, stopped answering, or answered a 5xx it should not have.
 */
async function main(): Promise<void> {
  const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
  const fixture = await startFixture();
  const controller = await startController({ args: ['--max-agents', '2'] });
  let exitCode = 0;
  try {
    const report = await fuzzController(
      { url: controller.url, accessId: controller.accessId, secret: controller.secret, serviceUrl: `${fixture.url}/api/predict/fuzz` },
      { seconds, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined, log: (line) => process.stdout.write(`${line}\n`) },
    );
    const alive = controller.proc.exitCode === null && controller.proc.signalCode === null;
    process.stdout.write(`${JSON.stringify({ ...report, controllerAlive: alive }, null, 2)}\n`);
    if (!alive || report.failures.length > 0) exitCode = 1;
  } finally {
    await controller.stop();
    await fixture.stop();
  }
  process.exit(exitCode);
}

runScript('fuzz', main);
