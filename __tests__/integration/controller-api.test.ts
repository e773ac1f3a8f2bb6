import { ControllerClient } from '../../src/api/client';
import { CONTROLLER_INFO_PATH } from '../../src/contract';
import { signedFetch, signedHeaders } from '../helpers/api';
import { ControllerProcess, killAllStarted, startController } from '../helpers/processes';

describe('controller API', () => {
  let controller: ControllerProcess;

  beforeAll(async () => {
    controller = await startController();
  });
  afterAll(async () => {
    await controller?.stop();
    killAllStarted();
  });

  const call = (method: string, path: string, body?: string) => signedFetch(controller.url, controller.accessId, controller.secret, method, path, body);

  test('healthz answers without credentials, and tells no pid or version', async () => {
    const res = await fetch(`${controller.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ Status: 'ok', Region: 'cn-local' });
  });

  test('the pid and version are for a key holder, with a proof made with its key over its nonce', async () => {
    expect((await fetch(`${controller.url}${CONTROLLER_INFO_PATH}`)).status).toBe(401);
    const client = new ControllerClient({ endpoint: controller.url, accessId: controller.accessId, accessKey: controller.secret });
    const info = await client.controllerInfo();
    expect(info?.Pid).toBe(controller.proc.pid);
    expect(info?.Version).toMatch(/^\d+\.\d+\.\d+/);
    // the same answer checked with another secret proves nothing
    const wrong = new ControllerClient({ endpoint: controller.url, accessId: controller.accessId, accessKey: 'not-the-secret' });
    expect(await wrong.controllerInfo()).toBeUndefined();
  });

  test('unsigned, wrongly signed and stale requests get 401 with no detail', async () => {
    const unsigned = await fetch(`${controller.url}/api/v2/benchmark-tasks`);
    expect(unsigned.status).toBe(401);
    const wrong = await fetch(`${controller.url}/api/v2/benchmark-tasks`, {
      headers: signedHeaders(controller.accessId, 'not-the-secret', 'GET', '/api/v2/benchmark-tasks'),
    });
    expect(wrong.status).toBe(401);
    const staleDate = new Date(Date.now() - 16 * 60 * 1000).toUTCString();
    const stale = await fetch(`${controller.url}/api/v2/benchmark-tasks`, {
      headers: signedHeaders(controller.accessId, controller.secret, 'GET', '/api/v2/benchmark-tasks', undefined, staleDate),
    });
    expect(stale.status).toBe(401);
    const body = (await stale.json()) as Record<string, string>;
    expect(body).toEqual({ RequestId: expect.stringMatching(/^[0-9A-F-]{36}$/), Code: 'Unauthorized', Message: 'missing or invalid credentials' });
  });

  test('a bad task is refused with the field named, and nothing is created', async () => {
    const bad = await call('POST', '/api/v2/benchmark-tasks', JSON.stringify({ service: { serviceName: 'demo', url: 'http://127.0.0.1:1/x' }, optional: { mode: 'manual', duration: 5000 } }));
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ Code: 'InvalidField', Field: 'optional.duration', Message: 'optional.duration: must be <= 1200' });
    const unknown = await call('POST', '/api/v2/benchmark-tasks', JSON.stringify({ service: { serviceName: 'demo', url: 'http://127.0.0.1:1/x' }, optinal: {} }));
    expect(unknown.json).toMatchObject({ Code: 'InvalidField', Field: 'optinal', Message: 'optinal: unknown field; did you mean optional?' });
    const broken = await call('POST', '/api/v2/benchmark-tasks', '{"service": ');
    expect(broken.status).toBe(400);
    expect(broken.json.Code).toBe('InvalidJson');
    const unregistered = await call('POST', '/api/v2/benchmark-tasks', JSON.stringify({ service: { serviceName: 'nowhere' } }));
    expect(unregistered.json).toMatchObject({ Code: 'ServiceNotFound', Field: 'service.serviceName' });
    const list = await call('GET', '/api/v2/benchmark-tasks');
    expect(list.json.Tasks).toEqual([]);
  });

  test('an unknown task is a 404 naming it', async () => {
    const res = await call('GET', '/api/v2/benchmark-tasks/cn-local/benchmark-nope-0000');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ Code: 'TaskNotFound', Message: 'benchmark task benchmark-nope-0000 does not exist' });
  });
});
