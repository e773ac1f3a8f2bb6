import { fuzzController } from '../helpers/fuzz';
import { ControllerProcess, FixtureProcess, killAllStarted, startController, startFixture } from '../helpers/processes';

/** The short form of `npm run fuzz` (60 s): the controller survives every shape of input and keeps answering. */
describe('fuzz against a live controller', () => {
  let fixture: FixtureProcess;
  let controller: ControllerProcess;

  beforeAll(async () => {
    fixture = await startFixture();
    controller = await startController({ args: ['--max-agents', '2'] });
  });

  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
  });

  test('API bodies, -D updates, paths and websocket frames: alive and answering, no 5xx', async () => {
    const report = await fuzzController(
      { url: controller.url, accessId: controller.accessId, secret: controller.secret, serviceUrl: `${fixture.url}/api/predict/fuzz` },
      { seconds: Number(process.env.FUZZ_SECONDS ?? 10) },
    );
    expect(report.failures).toEqual([]);
    expect(report.apiCalls).toBeGreaterThan(50);
    expect(report.wsFrames).toBeGreaterThan(50);
    expect(report.statuses['200']).toBeGreaterThan(0);
    expect(report.statuses['400']).toBeGreaterThan(0);
    expect(controller.proc.exitCode).toBeNull();
    expect(controller.proc.signalCode).toBeNull();
  });
});
