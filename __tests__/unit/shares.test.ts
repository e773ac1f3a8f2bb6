import { resolveOptional } from '../../src/contract';
import { createMode } from '../../controller/modes';
import { DEFAULT_MAX_AGENT_QPS } from '../../controller/config';
import { agentsForRate, ShareWatch } from '../../controller/modes/shares';

describe('agent shares', () => {
  test('a rate is split into shares no larger than the per-agent cap', () => {
    expect(agentsForRate(100, 20_000)).toBe(1);
    expect(agentsForRate(20_000, 20_000)).toBe(1);
    expect(agentsForRate(20_001, 20_000)).toBe(2);
    expect(agentsForRate(45_000)).toBe(Math.ceil(45_000 / DEFAULT_MAX_AGENT_QPS));
  });

  test('scan and auto ask for an agent per --max-agent-qps of their target', () => {
    const ctx = { event: () => undefined, timeoutMs: 5000, maxAgents: 16, maxAgentQps: 5000, nowS: () => 1000, end: () => undefined };
    const scan = createMode(resolveOptional({ service: { serviceName: 's', url: 'http://127.0.0.1:9/' }, optional: { mode: 'scan', minQPS: 12_000, maxQPS: 12_000 } }), ctx);
    expect(scan.desiredAgents()).toBe(3);
    expect(scan.loadFor(0, 3)).toMatchObject({ kind: 'open', qps: 4000 });
    const auto = createMode(resolveOptional({ service: { serviceName: 's', url: 'http://127.0.0.1:9/' }, optional: { maxQPS: 1000 } }), { ...ctx, maxAgentQps: 20 });
    // auto starts at 50 QPS: three shares of at most 20
    expect(auto.desiredAgents()).toBe(3);
  });

  test('an event says when the shares go above the cap (the most agents reached), and when they are back under it', () => {
    const said: string[] = [];
    const watch = new ShareWatch(10_000, (m) => said.push(m));
    watch.check(8000, 1, 1);
    expect(said).toEqual([]);
    watch.check(30_000, 2, 2);
    watch.check(30_000, 2, 2);
    expect(said).toEqual(['each of 2 agent(s) sends 15000 QPS, above --max-agent-qps 10000 (--max-agents 2 reached): the agents may fall behind their schedule; the generator-limited share says whether they did']);
    watch.check(15_000, 2, 2);
    expect(said[1]).toBe('agent shares are back under --max-agent-qps 10000 (7500 QPS each)');
  });
});
