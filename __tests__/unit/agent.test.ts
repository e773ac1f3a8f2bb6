import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAgentArgs, UsageError } from '../../agent/args';
import { readPoolKey } from '../../agent/pool-credentials';
import { Pacer } from '../../agent/closed-loop';
import { DeadlineList, DeadlineNode } from '../../agent/deadline-list';
import { prepareRequests } from '../../agent/undici-sender';
import { AGENT_TOKEN_ENV, parseControllerMessage } from '../../src/contract';

describe('agent pieces', () => {
  test('requests are prepared once: bodies decoded, path with query, headers flattened, client-owned headers dropped', () => {
    const { origin, requests } = prepareRequests({
      url: 'http://127.0.0.1:9001/api/predict/demo?x=1',
      method: 'post',
      headers: [
        ['Authorization', 'tok'],
        ['Content-Length', '999'],
        ['Content-Type', 'application/json'],
      ],
      bodies: [Buffer.from('{"a":1}').toString('base64'), Buffer.from('{"bb":22}').toString('base64')],
      timeoutMs: 1000,
    });
    expect(origin).toBe('http://127.0.0.1:9001');
    expect(requests).toHaveLength(2);
    expect(requests[0].options).toMatchObject({ path: '/api/predict/demo?x=1', method: 'POST', headers: ['Authorization', 'tok', 'Content-Type', 'application/json'] });
    expect((requests[1].options.body as Buffer).toString()).toBe('{"bb":22}');
    // Bytes out: the body plus an estimate of the head, so more than the body and not absurdly more.
    expect(requests[0].bytesOut).toBeGreaterThan(7 + 60);
    expect(requests[0].bytesOut).toBeLessThan(7 + 200);
    expect(requests[0].options.headers).toBe(requests[1].options.headers);
  });

  test('a request without data has no body', () => {
    const { requests } = prepareRequests({ url: 'http://h/p', method: 'GET', headers: [], bodies: [], timeoutMs: 1 });
    expect(requests).toHaveLength(1);
    expect(requests[0].options.body).toBeNull();
  });

  test('the pacer hands out slots 1/rate apart and never a catch-up burst', () => {
    const pacer = new Pacer(100);
    expect([0, 0, 0].map(() => pacer.reserve(1000))).toEqual([0, 10, 20]);
    // Idle for a long time: the next send is immediate, and the one after waits a full interval.
    expect(pacer.reserve(5000)).toBe(0);
    expect(pacer.reserve(5000)).toBe(10);
    pacer.setRate(10);
    expect(pacer.reserve(5000)).toBe(0);
    expect(pacer.reserve(5000)).toBe(100);
  });

  test('the deadline list expires only what is due, in order, and forgets removed nodes', async () => {
    const list = new DeadlineList();
    const expired: string[] = [];
    const node = (name: string, deadlineMs: number): DeadlineNode => ({ prev: null, next: null, deadlineMs, expire: () => expired.push(name) });
    const now = performance.now();
    const a = node('a', now + 10);
    const b = node('b', now + 15);
    const c = node('c', now + 20);
    const d = node('d', now + 10_000);
    [a, b, c, d].forEach((n) => list.push(n));
    list.remove(b);
    list.remove(b); // twice is harmless
    expect(list.size).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(expired).toEqual(['a', 'c']);
    expect(list.size).toBe(1);
    const drained: DeadlineNode[] = [];
    list.drain((n) => drained.push(n));
    expect(drained).toEqual([d]);
    expect(list.size).toBe(0);
  });

  test('agent arguments: required flags, both flag forms, usage errors', () => {
    expect(parseAgentArgs(['--controller', 'ws://127.0.0.1:8020/agents', '--token=t', '--agent-id', 'x', '--exit-on-stdin-eof'])).toEqual({
      controllerUrl: 'ws://127.0.0.1:8020/agents',
      token: 't',
      agentId: 'x',
      exitOnStdinEof: true,
    });
    expect(parseAgentArgs(['--help'])).toBe('help');
    expect(() => parseAgentArgs(['--token', 't'])).toThrow(UsageError);
    expect(() => parseAgentArgs(['--controller', 'http://x', '--token', 't'])).toThrow('ws://');
    expect(() => parseAgentArgs(['--controller', 'ws://x', '--token'])).toThrow('needs a value');
    expect(() => parseAgentArgs(['--controller', 'ws://x', '--token', 't', '--bogus'])).toThrow('unknown argument');
    // the environment carries the token of a launched agent: its command line holds none
    expect(parseAgentArgs(['--controller', 'ws://x'], { [AGENT_TOKEN_ENV]: 'from-env' })).toMatchObject({ token: 'from-env' });
    expect(parseAgentArgs(['--controller', 'ws://x', '--token', 'flag'], { [AGENT_TOKEN_ENV]: 'from-env' })).toMatchObject({ token: 'flag' });
    expect(() => parseAgentArgs(['--controller', 'ws://x'], { [AGENT_TOKEN_ENV]: '' })).toThrow(AGENT_TOKEN_ENV);
  });

  test('a pool agent names its key file instead of a token, and the file holds a key or a credentials file', () => {
    expect(parseAgentArgs(['--controller', 'ws://x/agents', '--pool-credentials', '/k.json', '--agent-id', 'p'], { [AGENT_TOKEN_ENV]: 'ignored' })).toEqual({
      controllerUrl: 'ws://x/agents',
      poolCredentials: '/k.json',
      agentId: 'p',
      exitOnStdinEof: false,
    });
    expect(() => parseAgentArgs(['--controller', 'ws://x', '--pool-credentials', '/k.json', '--token', 't'])).toThrow('exclude each other');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eas-bench-poolkey-'));
    const write = (name: string, text: string): string => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    expect(readPoolKey(write('key.json', '{"id":"K","secret":"S"}'))).toEqual({ id: 'K', secret: 'S' });
    expect(readPoolKey(write('creds.json', '{"keys":[{"id":"K1","secret":"S1"},{"id":"K2","secret":"S2"}]}'))).toEqual({ id: 'K1', secret: 'S1' });
    expect(() => readPoolKey(write('bad.json', '{"id":"K"}'))).toThrow(`--pool-credentials ${path.join(dir, 'bad.json')}: expected {"id":"...","secret":"..."}`);
    expect(() => readPoolKey(write('text.json', 'id=K'))).toThrow('not JSON');
    expect(() => readPoolKey(path.join(dir, 'missing.json'))).toThrow('cannot read it (ENOENT)');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('controller messages are checked before the runner sees them', () => {
    expect(parseControllerMessage('nope')).toBe('not JSON');
    expect(parseControllerMessage('{"type":"dance"}')).toBe('unknown message type dance');
    expect(parseControllerMessage('{"type":"load","load":{"kind":"open","qps":"fast"}}')).toBe('malformed load');
    expect(parseControllerMessage('{"type":"load","load":{"kind":"closed","concurrency":3,"maxQps":null},"requestLimit":10}')).toEqual({
      type: 'load',
      load: { kind: 'closed', concurrency: 3, maxQps: null },
      requestLimit: 10,
    });
    expect(parseControllerMessage('{"type":"assign","assignment":{"load":{"kind":"open","qps":1,"maxInFlight":1}}}')).toBe('malformed assign');
    expect(parseControllerMessage('{"type":"stop"}')).toEqual({ type: 'stop', reason: '' });
    expect(parseControllerMessage('{"type":"start"}')).toEqual({ type: 'start' });
  });
});
