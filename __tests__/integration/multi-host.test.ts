import { AGENT_WS_PATH, AGENTS_API_PATH, ListAgentsResponse } from '../../src/contract';
import { detailView } from '../../controller/api/views';
import { createTask, InProcessController, startInProcessController, waitForStatus } from '../helpers/controller';
import { createNamespaces, NamespaceSet, namespacesUnavailable } from '../helpers/netns';
import { startPoolAgent, stopAllPoolAgents, writePoolKey } from '../helpers/pool-agents';
import { FixtureProcess, startFixture, tempDir, waitFor } from '../helpers/processes';

/**
 * Agents on two hosts, for real: two network namespaces, each with its own
 * address, run `eascmd-agent --pool-credentials`; the controller and the
 * target listen on the host's ends of the veth pairs. One task with
 * agentCount 2 must reach the target from both addresses, and the target's
 * count must equal the task's TotalRequests.
 */

jest.setTimeout(120_000);

const unavailable = namespacesUnavailable();
if (unavailable) {
  // a skipped suite says why
  console.warn(`multi-host test skipped: ${unavailable}`);
}

(unavailable ? describe.skip : describe)('agents in two network namespaces', () => {
  let hosts: NamespaceSet | undefined;
  let controller: InProcessController | undefined;
  let fixture: FixtureProcess | undefined;

  beforeAll(async () => {
    hosts = createNamespaces(2);
    const [a, b] = hosts.namespaces;
    controller = await startInProcessController({ host: a.hostAddress, agentLauncher: 'pool' });
    fixture = await startFixture(['--host', b.hostAddress, '--latency-ms', '2']);
  });
  afterAll(async () => {
    await stopAllPoolAgents();
    await controller?.close();
    await fixture?.stop();
    hosts?.teardown();
  });

  test('one task with agentCount 2 runs an agent in each namespace; the target sees both addresses and exactly TotalRequests', async () => {
    if (!hosts || !controller || !fixture) throw new Error('beforeAll did not finish');
    const c = controller;
    const keyFile = writePoolKey(tempDir('multi-host'), c.accessId, c.secret);
    const controllerWsUrl = `${c.url.replace(/^http/, 'ws')}${AGENT_WS_PATH}`;
    const agents = hosts.namespaces.map((ns) => startPoolAgent({ controllerWsUrl, keyFile, agentId: `agent-${ns.name}`, wrap: hosts?.wrap(ns) }));
    for (const agent of agents) await agent.joined();
    const pool = (await c.call('GET', AGENTS_API_PATH)).json as unknown as ListAgentsResponse;
    expect(pool.Agents.map((a) => a.Address).sort()).toEqual(hosts.namespaces.map((ns) => ns.address).sort());

    const name = await createTask(c, {
      service: { serviceName: 'demo', url: `${fixture.url}/api/predict/demo` },
      data: { content: 'aGVsbG8K' },
      optional: { mode: 'manual', agentCount: 2, concurrency: 2, duration: 6 },
    });
    await waitForStatus(c, name, ['Running']);
    await waitFor('both agents seated', () => detailView(c.controller.manager, name).AvailableAgent === 2 || undefined);
    // desc shows where each agent of the round runs
    expect(detailView(c.controller.manager, name).Agents?.map((a) => a.Address).sort()).toEqual(hosts.namespaces.map((ns) => ns.address).sort());

    const stopped = await waitForStatus(c, name, ['Stopped'], 60_000);
    const stats = await fixture.stats();
    expect(Object.keys(stats.byRemoteAddress).sort()).toEqual(hosts.namespaces.map((ns) => ns.address).sort());
    for (const ns of hosts.namespaces) expect(stats.byRemoteAddress[ns.address]).toBeGreaterThan(0);
    expect(stopped.Result?.TotalRequests).toBe(stats.requests);
    expect(stopped.Result?.StatusCodes).toEqual({ '200': stats.requests });
  });
});
