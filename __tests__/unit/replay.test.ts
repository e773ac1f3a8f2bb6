import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BenchError, firstReplayIndexAt, replayCountBy, replayPathThresholds, validateTask, type ReplaySpec } from '../../src/contract';
import { DEFAULT_DATA_LIMITS, type DataPolicy } from '../../controller/data';
import { nginxRecord, parseLog } from '../../controller/data/replay-parse';
import { OTHER_PATHS, pathName, readReplay, replayDurationS, REPLAY_BOUNDS } from '../../controller/data/replay';
import { mostDueWithin, ReplaySchedule } from '../../agent/schedule';

const SERVICE = 'http://127.0.0.1:8080/api/predict/demo';
let dir: string;
let inDir: DataPolicy;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eas-bench-replay-'));
  inDir = { roots: [dir], excluded: [], allowPrivate: false };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const read = (spec: ReplaySpec, bounds = REPLAY_BOUNDS, limits = DEFAULT_DATA_LIMITS) => readReplay(spec, SERVICE, [['Authorization', 'tok']], limits, inDir, bounds);

async function failure(promise: Promise<unknown>): Promise<BenchError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(BenchError);
    return err as BenchError;
  }
  throw new Error('expected the replay to be refused');
}

describe('nginx combined log', () => {
  test('a line as nginx writes it by default: method, path with its query, time with its zone, its Referer and User-Agent; no body', () => {
    const line = '203.0.113.7 - alice [07/Dec/2026:10:30:01 +0800] "POST /api/predict/demo?v=2 HTTP/1.1" 200 1534 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"';
    expect(nginxRecord(line)).toEqual({
      timeMs: Date.UTC(2026, 11, 7, 2, 30, 1),
      method: 'POST',
      target: '/api/predict/demo?v=2',
      headers: [['Referer', 'https://example.com/'], ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64)']],
    });
    // "-" is no header; nginx's \xHH escapes are read back; a value with a control byte or non-ASCII bytes is left out
    expect(nginxRecord('127.0.0.1 - - [07/Dec/2026:02:30:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "say \\x22hi\\x22/1.0"')).toMatchObject({ headers: [['User-Agent', 'say "hi"/1.0']] });
    expect(nginxRecord('127.0.0.1 - - [07/Dec/2026:02:30:01 +0000] "GET /a HTTP/1.1" 200 5 "http://a/\\x0d\\x0aX: y" "caf\\xC3\\xA9"')).toMatchObject({ headers: [] });
    // the common format (no referer and agent) and HTTP/0.9 (no protocol) are read too
    expect(nginxRecord('::1 - - [07/Dec/2026:02:30:01 -0130] "GET /x" 404 0')).toMatchObject({ timeMs: Date.UTC(2026, 11, 7, 4, 0, 1), target: '/x' });
  });

  test('malformed lines are counted and the first is said with its line; the rest are records', () => {
    const text = [
      '127.0.0.1 - - [07/Dec/2026:02:30:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "curl/8.5.0"',
      '127.0.0.1 - - [07/Dec/2026:02:30:01 +0000] "\\x16\\x03\\x01\\x02\\x00" 400 157 "-" "-"',
      '',
      'not a log line',
      '127.0.0.1 - - [7/December/2026:02:30:01 +0000] "GET /b HTTP/1.1" 200 5 "-" "-"',
      '127.0.0.1 - - [07/Dec/2026:02:30:02 +0000] "GET http://evil/ HTTP/1.1" 200 5 "-" "-"',
      '127.0.0.1 - - [07/Dec/2026:02:30:02 +0000] "GET /c HTTP/1.1" 200 5 "-" "-"\r',
    ].join('\n');
    const log = parseLog(text, 'nginx');
    expect(log.records.map((r) => r.target)).toEqual(['/a', '/c']);
    expect(log.malformed).toBe(4);
    expect(log.firstProblem).toBe('line 2: request "\\x16\\x03\\x01\\x02\\x00" is not "METHOD /path HTTP/x"');
  });
});

describe('jsonl and csv logs', () => {
  test('jsonl: ms or ISO timestamps, headers as an object or lines, a body from a field (text, JSON written out, base64)', () => {
    const text = [
      JSON.stringify({ timestamp: 1_000, path: '/a', headers: { 'X-A': '1' } }),
      JSON.stringify({ timestamp: '1970-01-01T00:00:01.500Z', method: 'put', url: 'http://127.0.0.1:8080/b', headers: ['X-B: 2'], body: { id: 1 } }),
      JSON.stringify({ timestamp: 2_000, path: '/c', bodyBase64: 'aGk=' }),
      JSON.stringify({ timestamp: 2_500, path: '/d', payload: 'text' }),
    ].join('\n');
    const log = parseLog(text, 'jsonl');
    expect(log.malformed).toBe(0);
    expect(log.records).toEqual([
      { timeMs: 1000, method: 'GET', target: '/a', headers: [['X-A', '1']] },
      { timeMs: 1500, method: 'PUT', target: 'http://127.0.0.1:8080/b', headers: [['X-B', '2']], body: Buffer.from('{"id":1}').toString('base64') },
      { timeMs: 2000, method: 'POST', target: '/c', headers: [], body: 'aGk=' },
      { timeMs: 2500, method: 'GET', target: '/d', headers: [] },
    ]);
    expect(parseLog(text, 'jsonl', 'payload').records[3]).toMatchObject({ method: 'POST', body: Buffer.from('text').toString('base64') });
  });

  test('jsonl: malformed lines counted, the first said with its line', () => {
    const log = parseLog(['{"timestamp": 1, "path": "/ok"}', '{"path": "/a"}', 'nope', '{"timestamp": 1, "path": "/a", "url": "http://x/"}', '[1]', '{"timestamp": 1, "path": "a"}', '{"timestamp": 1, "path": "/a", "method": "BREW"}'].join('\n'), 'jsonl');
    expect(log.records).toHaveLength(1);
    expect(log.malformed).toBe(6);
    expect(log.firstProblem).toBe('line 2: no timestamp');
  });

  test('csv: a header row, quoted fields with commas, newlines and quotes; a row of the wrong width is counted', () => {
    const text = 'timestamp,method,path,headers,body\n1000,POST,/a,"X-A:1\nX-B:2","{""q"":""a,b""}"\n2000,,/b,,\n3000,GET,/c\n';
    const log = parseLog(text, 'csv');
    expect(log.records).toEqual([
      { timeMs: 1000, method: 'POST', target: '/a', headers: [['X-A', '1'], ['X-B', '2']], body: Buffer.from('{"q":"a,b"}').toString('base64') },
      { timeMs: 2000, method: 'GET', target: '/b', headers: [] },
    ]);
    expect(log.malformed).toBe(1);
    expect(log.firstProblem).toBe('line 5: 3 columns, the header has 5');
  });
});

describe('a log laid out for the round', () => {
  test('records in time order from the first, offsets divided by speed, an nginx second spread over it; requests once each with the task headers', async () => {
    const file = write(
      'spread.log',
      [
        '1.1.1.1 - - [07/Dec/2026:02:30:03 +0000] "GET /late HTTP/1.1" 200 5 "-" "-"',
        '1.1.1.1 - - [07/Dec/2026:02:30:01 +0000] "GET /a?x=1 HTTP/1.1" 200 5 "-" "-"',
        '1.1.1.1 - - [07/Dec/2026:02:30:01 +0000] "GET /a?x=1 HTTP/1.1" 200 5 "-" "-"',
        '1.1.1.1 - - [07/Dec/2026:02:30:01 +0000] "POST /b HTTP/1.1" 200 5 "-" "-"',
        '1.1.1.1 - - [07/Dec/2026:02:30:01 +0000] "GET /a?x=2 HTTP/1.1" 200 5 "-" "-"',
      ].join('\n'),
    );
    const plan = await read({ path: file, format: 'nginx', speed: 2 });
    expect(plan.requests.times).toEqual([0, 125, 250, 375, 1000]);
    expect(plan.periodMs).toBe(1500);
    expect(replayDurationS(plan)).toBe(2);
    // by count, then in time order
    expect(plan.requests.names).toEqual(['/a', '/b', '/late']);
    expect(plan.requests.requests.map((r) => [r.method, r.url, r.name])).toEqual([
      ['GET', 'http://127.0.0.1:8080/a?x=1', 0],
      ['POST', 'http://127.0.0.1:8080/b', 1],
      ['GET', 'http://127.0.0.1:8080/a?x=2', 0],
      ['GET', 'http://127.0.0.1:8080/late', 2],
    ]);
    expect(plan.requests.picks).toEqual([0, 0, 1, 2, 3]);
    expect(plan.requests.requests[0].headers).toEqual([['Authorization', 'tok']]);
  });

  test("a logged header takes the place of the task's of the same name; the others are kept", async () => {
    const file = write('agents.log', '1.1.1.1 - - [07/Dec/2026:02:30:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "curl/8.5.0"\n');
    const plan = await readReplay({ path: file, format: 'nginx' }, SERVICE, [['Authorization', 'tok'], ['user-agent', 'eas-bench']], DEFAULT_DATA_LIMITS, inDir, REPLAY_BOUNDS);
    expect(plan.requests.requests[0].headers).toEqual([['Authorization', 'tok'], ['User-Agent', 'curl/8.5.0']]);
  });

  test('the top paths by count get a name each, up to the cap of 32; the rest are counted as other', async () => {
    const lines: string[] = [];
    for (let p = 0; p < 40; p++) for (let n = 0; n <= (p < 31 ? 2 : 0); n++) lines.push(JSON.stringify({ timestamp: p * 10 + n, path: `/p${p}` }));
    const plan = await read({ path: write('many.jsonl', lines.join('\n')), format: 'jsonl' });
    expect(plan.requests.names).toHaveLength(32);
    expect(plan.requests.names[31]).toBe(OTHER_PATHS);
    expect(plan.requests.names.slice(0, 31)).toEqual(Array.from({ length: 31 }, (_, p) => `/p${p}`));
    const other = plan.requests.requests.filter((r) => r.name === 31).map((r) => r.url.slice(-3));
    expect(other).toEqual(['/p31', '/p32', '/p33', '/p34', '/p35', '/p36', '/p37', '/p38', '/p39'].map((u) => u.slice(-3)));
  });

  test('a path becomes a name a frame may carry', () => {
    expect(pathName('/api/v1/items?page=2')).toBe('/api/v1/items');
    expect(pathName('http://h:1/x y/%41~')).toBe('/x_20y/_41_');
    expect(pathName(`/${'a'.repeat(100)}`)).toHaveLength(64);
  });

  test('a record on another origin is malformed; a log of none is refused naming the field', async () => {
    const plan = await read({ path: write('origins.jsonl', '{"timestamp": 1, "url": "http://other:9/x"}\n{"timestamp": 2, "path": "/y"}\n'), format: 'jsonl' });
    expect(plan.malformed).toBe(1);
    expect(plan.firstProblem).toContain('http://other:9/x must be on the service\'s origin http://127.0.0.1:8080');
    const none = await failure(read({ path: write('none.jsonl', 'x\ny\n'), format: 'jsonl' }));
    expect(none.field).toBe('data.replay.path');
    expect(none.message).toContain('no records (2 malformed line(s); line 1: not JSON)');
  });

  test('bounded in bytes and records, refused with the field named', async () => {
    const file = write('big.jsonl', Array.from({ length: 50 }, (_, i) => JSON.stringify({ timestamp: i, path: '/a' })).join('\n'));
    const bytes = await failure(read({ path: file, format: 'jsonl' }, { maxRecords: 1000, maxBytes: 100 }));
    expect(bytes.field).toBe('data.replay.path');
    expect(bytes.message).toContain('too big (> 100 bytes)');
    const records = await failure(read({ path: file, format: 'jsonl' }, { maxRecords: 49, maxBytes: 1 << 20 }));
    expect(records.field).toBe('data.replay');
    expect(records.message).toContain('50 records, more than the limit of 49');
    const long = await read({ path: write('long.jsonl', '{"timestamp": 0, "path": "/a"}\n{"timestamp": 2000000, "path": "/a"}\n'), format: 'jsonl' });
    expect(() => replayDurationS(long)).toThrow(/data\.replay\.speed: .*one pass lasts 2001 s, more than the longest round \(1200 s\)/);
  });
});

describe('the task checks', () => {
  const base = { service: { serviceName: 'r', url: SERVICE } };
  const errors = (task: unknown): string[] => {
    const r = validateTask(task);
    return r.ok ? [] : r.errors.map((e) => `${e.field}: ${e.message}`);
  };
  test('data.replay and optional.mode replay need each other; a replay stands alone in data', () => {
    expect(errors({ ...base, data: { replay: { path: '/x', format: 'jsonl' } }, optional: { mode: 'replay' } })).toEqual([]);
    expect(errors({ ...base, optional: { mode: 'replay' } })).toEqual(['data.replay: is required when optional.mode is "replay" (the log to send: {"path" or "url", "format"})']);
    expect(errors({ ...base, data: { replay: { path: '/x', format: 'jsonl' } } })).toEqual(['optional.mode: must be "replay" when data.replay is given']);
    expect(errors({ ...base, data: { content: 'aGk=', replay: { url: 'ftp://x', path: '/x', format: 'nginx', bodyField: 'b' } }, optional: { mode: 'replay' } })).toEqual([
      'data.replay: give "path" (a data source) or "url", one of them',
      'data.replay.url: must be an http(s) URL (a local path goes in data.replay.path)',
      'data.replay.bodyField: applies to jsonl and csv logs (the nginx log has no body)',
      'data.content: a replay takes each request (and its body) from its log: give data.replay alone',
    ]);
    expect(errors({ ...base, data: { replay: { path: '/a.log,/b.log', format: 'nginx' } }, optional: { mode: 'replay' } })).toEqual(['data.replay.path: names one log (no ",")']);
    expect(errors({ ...base, data: { replay: { path: '/x', format: 'xml', speed: 0 } }, optional: { mode: 'replay' } })).toEqual([
      'data.replay.format: must be one of jsonl, nginx, csv',
      'data.replay.speed: must be >= 0.01',
    ]);
  });

  test("a replay's thresholds may name its paths (and other) before the log is read; another task's may not", () => {
    const replay = { ...base, data: { replay: { path: '/x', format: 'jsonl' } }, optional: { mode: 'replay' } };
    const thresholds = { '/api/b.TP99': '< 200', '/v1.2/x.TP99.9': '< 900', 'other.ErrorRate': '< 0.01', TP99: '< 300' };
    expect(errors({ ...replay, thresholds })).toEqual([]);
    expect(replayPathThresholds(thresholds)).toEqual([
      { metric: '/api/b.TP99', name: '/api/b' },
      { metric: '/v1.2/x.TP99.9', name: '/v1.2/x' },
      { metric: 'other.ErrorRate', name: 'other' },
    ]);
    // a name that is no path, or a statistic a name has not, is refused as before
    expect(errors({ ...replay, thresholds: { 'search.TP99': '< 1' } })[0]).toMatch(/^thresholds\.search\.TP99: unknown metric/);
    expect(errors({ ...replay, thresholds: { '/api/b.TP75': '< 1' } })[0]).toMatch(/^thresholds\.\/api\/b\.TP75: unknown metric/);
    expect(errors({ ...base, thresholds: { '/api/b.TP99': '< 200' } })[0]).toMatch(/^thresholds\.\/api\/b\.TP99: unknown metric/);
  });
});

describe('the agents\' lanes of a log', () => {
  const records = { times: [0, 100, 100, 250, 900], picks: [4, 3, 2, 1, 0] };
  const run = (lane: number, lanes: number, loop: boolean, atMs = 0): [number, number][] => {
    const s = ReplaySchedule.startingAt({ atMs, lane, lanes, periodMs: 1000, loop }, records, 5000 + atMs);
    const out: [number, number][] = [];
    while (s.nextDueMs() < 5000 + 2500 && out.length < 50) {
      out.push([s.nextDueMs() - 5000, s.nextPick()]);
      s.advance();
    }
    return out;
  };

  test('record k goes to agent k mod N: the union is the log, once; it ends unless it loops', () => {
    const all = [...run(0, 2, false), ...run(1, 2, false)].sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    expect(all).toEqual([[0, 4], [100, 3], [100, 2], [250, 1], [900, 0]]);
    expect(run(1, 2, false)).toEqual([[100, 3], [250, 1]]);
    // looping, lanes stay whole across passes: 5 records, 2 lanes
    expect(run(0, 2, true).map(([t]) => t)).toEqual([0, 100, 900, 1100, 1250, 2000, 2100, 2900, 3100].filter((t) => t < 2500));
  });

  test('a load that takes effect mid-round (a replaced agent) starts at its lane\'s first record due from there', () => {
    expect(run(0, 2, false, 200)).toEqual([[900, 0]]);
    // from 1150 ms of a looped log: pass 1's records 3 (global 8) and 4 (global 9) are due; lane 1 of 2 takes 9
    expect(firstReplayIndexAt(records.times, 1000, true, 1150, 1, 2)).toBe(9);
    expect(replayCountBy(records.times, 1000, true, 2150)).toBe(13);
    expect(replayCountBy(records.times, 1000, false, 2150)).toBe(5);
  });
});

describe('connections a lane opens ahead', () => {
  test('the most of a lane\'s due times within a window: a burst in one millisecond counts whole, split by lane', () => {
    const burst = [0, 40, 80, ...Array.from({ length: 150 }, () => 3500), 4100, 4125];
    expect(mostDueWithin(burst, 20, 0, 1)).toBe(150);
    expect(mostDueWithin(burst, 20, 0, 2)).toBe(75);
    expect(mostDueWithin(burst, 20, 1, 2)).toBe(75);
    // spread records: one within any 20 ms, 3 within any second of 40 ms steps
    expect(mostDueWithin([0, 40, 80, 120], 20, 0, 1)).toBe(1);
    expect(mostDueWithin([0, 40, 80, 120], 1000, 0, 1)).toBe(4);
    // the window is half-open: times exactly one window apart are not within it
    expect(mostDueWithin([0, 20, 40], 20, 0, 1)).toBe(1);
    expect(mostDueWithin([], 20, 0, 1)).toBe(0);
    // a lane past the end has nothing
    expect(mostDueWithin([5], 20, 1, 2)).toBe(0);
  });
});
