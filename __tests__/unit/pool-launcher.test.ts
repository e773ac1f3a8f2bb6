import { PoolLink } from '../../controller/fleet/hub';
import { AgentLaunchSpec } from '../../controller/fleet/launcher';
import { CLOSE_RESTARTING, PoolAgentLauncher } from '../../controller/fleet/pool-launcher';
import {
  CLOSE_AGENT_CONNECTED,
  CLOSE_UNAUTHORIZED,
  ControllerToPoolAgent,
  MAX_DATE_AGE_MS,
  parsePoolAgentMessage,
  parsePoolControllerMessage,
  PoolHello,
  PROTOCOL_VERSION,
  signPoolHello,
} from '../../src/contract';

/**
 * The pool launcher with the test playing the pool agents' links: who may
 * join, which idle agent takes which launch, and how a seat comes back.
 */

const KEY = { id: 'LTAIpool', secret: 'pool-secret' };

class FakeLink implements PoolLink {
  readonly sent: ControllerToPoolAgent[] = [];
  closed?: { code?: number; reason?: string };
  readonly host = 'host-x';
  readonly address = '10.0.0.9';

  constructor(readonly agentId: string, readonly pid = 77) {}

  send(message: ControllerToPoolAgent): void {
    this.sent.push(message);
  }

  close(code?: number, reason?: string): void {
    this.closed ??= { code, reason };
  }

  seats(): string[] {
    return this.sent.flatMap((m) => (m.type === 'seat' ? [m.agentId] : []));
  }
}

function hello(agentId: string, key = KEY, now = new Date()): PoolHello {
  return signPoolHello(key, { agentId, host: 'host-x', pid: 77, version: PROTOCOL_VERSION }, now);
}

function setup() {
  const launcher = new PoolAgentLauncher(new Map([[KEY.id, KEY.secret]]));
  const exits: { agentId: string; code: number | null; signal: string | null }[] = [];
  const spec = (agentId: string): AgentLaunchSpec => ({
    controllerWsUrl: 'ws://127.0.0.1:1/agents',
    token: `secret-of-${agentId}`,
    agentId,
    taskName: 'task',
    roundId: 10001,
    onExit: (code, signal) => exits.push({ agentId, code, signal }),
  });
  const join = (agentId: string): FakeLink => {
    const link = new FakeLink(agentId);
    launcher.join(hello(agentId), link);
    return link;
  };
  return { launcher, exits, spec, join };
}

describe('PoolAgentLauncher', () => {
  test('a good hello is welcomed; a wrong secret, an unknown key, a stale time, a replay and a taken id are refused', () => {
    const { launcher, join } = setup();
    const a = join('a');
    expect(a.sent).toEqual([{ type: 'welcome', agentId: 'a', heartbeatMs: 10_000 }]);
    expect(a.closed).toBeUndefined();

    const refusedWith = (h: PoolHello, agentId = h.agentId): { code?: number; reason?: string } | undefined => {
      const link = new FakeLink(agentId);
      launcher.join(h, link);
      return link.closed;
    };
    expect(refusedWith(hello('b', { id: KEY.id, secret: 'guess' }))).toEqual({ code: CLOSE_UNAUTHORIZED, reason: 'bad pool signature' });
    expect(refusedWith(hello('b', { id: 'LTAIother', secret: KEY.secret }))).toEqual({ code: CLOSE_UNAUTHORIZED, reason: 'bad pool signature' });
    // a signature over one agent id does not admit another
    expect(refusedWith({ ...hello('d'), agentId: 'e' })).toEqual({ code: CLOSE_UNAUTHORIZED, reason: 'bad pool signature' });
    expect(refusedWith(hello('f', KEY, new Date(Date.now() - MAX_DATE_AGE_MS - 60_000)))).toEqual({ code: CLOSE_UNAUTHORIZED, reason: 'pool hello time is outside the accepted clock skew' });
    const once = hello('g');
    expect(refusedWith(once)).toBeUndefined();
    expect(refusedWith(once)).toEqual({ code: CLOSE_UNAUTHORIZED, reason: 'pool hello replayed' });
    expect(refusedWith(hello('a'))).toEqual({ code: CLOSE_AGENT_CONNECTED, reason: 'agent id already in the pool' });
    expect(launcher.list().map((m) => m.agentId)).toEqual(['a', 'g']);
    expect(a.closed).toBeUndefined();
  });

  test('launches wait in line for idle agents; the agent idle longest takes the next seat', () => {
    const { launcher, exits, spec, join } = setup();
    const first = launcher.launch(spec('s1'));
    expect(first.waiting).toBe(true);
    const a = join('a');
    expect(first.waiting).toBe(false);
    expect(first.pid).toBe(77);
    expect(a.sent[1]).toEqual({ type: 'seat', agentId: 's1', token: 'secret-of-s1', taskName: 'task', roundId: 10001 });
    const b = join('b');
    const c = join('c');
    launcher.launch(spec('s2'));
    expect(b.seats()).toEqual(['s2']);
    expect(launcher.list().map((m) => [m.agentId, m.state, m.seat?.agentId])).toEqual([
      ['a', 'busy', 's1'],
      ['b', 'busy', 's2'],
      ['c', 'idle', undefined],
    ]);

    // a's seat ends: it goes to the back, behind c, which has waited longer
    launcher.onMessage(a, { type: 'seat-ended', agentId: 's1' });
    expect(exits).toEqual([{ agentId: 's1', code: 0, signal: null }]);
    launcher.launch(spec('s3'));
    expect(c.seats()).toEqual(['s3']);
    launcher.launch(spec('s4'));
    expect(a.seats()).toEqual(['s1', 's4']);
    // a seat-ended for a seat the agent does not hold changes nothing
    launcher.onMessage(b, { type: 'seat-ended', agentId: 's4' });
    expect(exits).toHaveLength(1);
  });

  test('kill: a waiting launch leaves the line; a busy agent is told to leave, and cut off when it lingers', async () => {
    const { launcher, exits, spec, join } = setup();
    const waiting = launcher.launch(spec('w'));
    waiting.kill();
    expect(exits).toEqual([]); // reported after the kill, never inside it
    await Promise.resolve();
    expect(exits).toEqual([{ agentId: 'w', code: null, signal: 'SIGTERM' }]);
    const a = join('a');
    expect(a.seats()).toEqual([]);

    const busy = launcher.launch(spec('s'));
    busy.kill(20);
    expect(a.sent[a.sent.length - 1]).toEqual({ type: 'release', agentId: 's', reason: 'the round let the agent go' });
    await new Promise((r) => setTimeout(r, 60));
    expect(a.closed).toEqual({ code: 1000, reason: 'seat not released' });
    launcher.onClose(a);
    expect(exits[1]).toEqual({ agentId: 's', code: null, signal: null });
    expect(launcher.list()).toEqual([]);
  });

  test('an agent whose link drops loses its seat; shutdown ends the line and tells every agent the controller is going', () => {
    const { launcher, exits, spec, join } = setup();
    const a = join('a');
    const b = join('b');
    launcher.launch(spec('s1'));
    launcher.onClose(a);
    expect(exits).toEqual([{ agentId: 's1', code: null, signal: null }]);
    launcher.launch(spec('s2'));
    launcher.launch(spec('s3'));
    void launcher.shutdown();
    expect(exits.map((e) => e.agentId).sort()).toEqual(['s1', 's2', 's3']);
    expect(b.closed).toEqual({ code: CLOSE_RESTARTING, reason: 'controller stopping' });
    const late = new FakeLink('late');
    launcher.join(hello('late'), late);
    expect(late.closed).toEqual({ code: CLOSE_RESTARTING, reason: 'controller stopping' });
  });

  test('pool frames are checked field by field both ways', () => {
    expect(parsePoolAgentMessage(JSON.stringify(hello('a')))).toMatchObject({ type: 'pool-hello', agentId: 'a', keyId: KEY.id });
    expect(parsePoolAgentMessage(JSON.stringify({ ...hello('a'), nonce: 'short' }))).toBe('pool-hello.nonce must be 32 hex digits');
    expect(parsePoolAgentMessage(JSON.stringify({ ...hello('a'), signature: 'zz' }))).toBe('pool-hello.signature must be 64 hex digits');
    // the secret is never part of the hello
    expect(JSON.stringify(hello('a'))).not.toContain(KEY.secret);
    expect(parsePoolAgentMessage('{"type":"seat-ended","agentId":"x","extra":1}')).toEqual({ type: 'seat-ended', agentId: 'x' });
    expect(parsePoolAgentMessage('[1]')).toBe('not a JSON object');
    expect(parsePoolControllerMessage('{"type":"seat","agentId":"x","token":"t","taskName":"n","roundId":-1}')).toBe('malformed seat');
    expect(parsePoolControllerMessage('{"type":"release","agentId":"x"}')).toEqual({ type: 'release', agentId: 'x', reason: '' });
  });
});
