import { Lines, colorEnabled } from '../../src/output/lines';
import { createProgress, progressLine } from '../../src/output/progress';
import { renderSummary } from '../../src/output/summary';
import { renderTable } from '../../src/output/table';
import { formatBytes, formatCapacity, formatRate } from '../../src/output/format';
import type { RoundResult } from '../../src/contract';

function capture(isTTY: boolean): { write(s: string): boolean; isTTY: boolean; text: string } {
  return {
    isTTY,
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

describe('cli output', () => {
  test('colour only on a terminal and without NO_COLOR', () => {
    expect(colorEnabled(capture(true), {})).toBe(true);
    expect(colorEnabled(capture(true), { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(capture(false), {})).toBe(false);
  });

  test('[RequestId], [OK] lines on stdout, [ERROR] on stderr, plain when not coloured', () => {
    const out = capture(false);
    const err = capture(false);
    const lines = new Lines(out, err, false);
    lines.requestId('7F953F8E-8897-5785-808A-CA648302A1B2');
    lines.requestId(undefined);
    lines.ok('Task [t] is creating');
    lines.error('InvalidField', 'optional.duration: must be <= 1200');
    expect(out.text).toBe('[RequestId]: 7F953F8E-8897-5785-808A-CA648302A1B2\n[OK] Task [t] is creating\n');
    expect(err.text).toBe('[ERROR] InvalidField: optional.duration: must be <= 1200\n');
  });

  test('text another party chose cannot steer the terminal: controls and bidi overrides are escaped, line breaks and any script kept', () => {
    const out = capture(false);
    const err = capture(false);
    const lines = new Lines(out, err, true);
    lines.ok('agent\u001b[2J\u001b]0;owned\u0007 lost\r\u009b31m \u202eexe.txt');
    lines.print('| \u4e2d\u6587 caf\u00e9 \ud83d\ude80 |\nnext\tline\u2066');
    lines.error('DataSourceFailed', 'service said \u001b[31mno\u200f');
    lines.json({ Message: '\u202e\u0085x' });
    expect(out.text).toContain('agent\\u001b[2J\\u001b]0;owned\\u0007 lost\\u000d\\u009b31m \\u202eexe.txt\n');
    expect(out.text).toContain('| \u4e2d\u6587 caf\u00e9 \ud83d\ude80 |\nnext\\u0009line\\u2066\n');
    expect(err.text).toContain('service said \\u001b[31mno\\u200f\n');
    // the colours of our own prefixes are still there; nothing else of the kind
    // eslint-disable-next-line no-control-regex -- looking for control characters is the test
    expect(out.text.replace(/\u001b\[\d+m/g, '')).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f]/);
    expect(JSON.parse(out.text.slice(out.text.indexOf('{')))).toEqual({ Message: '\u202e\u0085x' });
  });

  test('a table cell is escaped before the columns are measured, so its borders stay aligned', () => {
    const table = renderTable(['AgentId', 'Host'], [['evil\u202egnp.exe', 'h']]);
    const widths = new Set(table.split('\n').map((l) => l.length));
    expect(widths.size).toBe(1);
    expect(table).toContain('| evil\\u202egnp.exe | h    |');
  });

  test('coloured lines keep their text', () => {
    const out = capture(true);
    new Lines(out, capture(true), true).ok('x');
    const esc = String.fromCharCode(27);
    expect(out.text.startsWith(`${esc}[32m[OK]${esc}[39m x`)).toBe(true);
  });

  test('plain progress prints at most one line per interval', () => {
    const printed: string[] = [];
    let now = 0;
    const view = createProgress({ tty: false, stream: process.stdout, print: (l) => printed.push(l), plainEveryMs: 5000, now: () => now });
    const task = { Status: 'Running' as const, ElapsedS: 1, DurationS: 600, CurrentQPS: 10, TP99: 3, ErrorRate: 0 };
    view.update(task);
    now = 4000;
    view.update({ ...task, ElapsedS: 5 });
    now = 5000;
    view.update({ ...task, ElapsedS: 6 });
    view.stop();
    expect(printed).toEqual(['Running 1s/600s, QPS 10, TP99 3 ms, error rate 0.00%', 'Running 6s/600s, QPS 10, TP99 3 ms, error rate 0.00%']);
    expect(progressLine({ Status: 'Creating', ElapsedS: 0, DurationS: 60 })).toBe('Creating 0s/60s, QPS -, TP99 -, error rate -');
  });

  test('formats: rates as percentages, bytes with binary units, capacity as in desc', () => {
    expect(formatRate(0.0002)).toBe('0.02%');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatCapacity({ QPS: 1450, TP99: 182, ErrorRate: 0.0002, Reason: 'maxRT' })).toBe('1450 QPS, TP99 182 ms, error rate 0.02% (maxRT)');
  });

  test('the summary says when the start-up was left out of the latency figures', () => {
    const result: RoundResult = {
      TotalRequests: 100, SuccessRequests: 100, ErrorRequests: 0, ErrorRate: 0, QPS: 20, AvgRT: 1, MinRT: 1, MaxRT: 1, TP50: 1, TP75: 1, TP90: 1, TP95: 1, TP99: 1, TP999: 1,
      BytesIn: 0, BytesOut: 0, StatusCodes: { '200': 100 }, Dropped: 0, SendLagP99: 0.1, DurationS: 5, RTDistribution: [], GeneratorLimitedSeconds: 1, GeneratorLimitedShare: 0.2,
    };
    const row = "WarmupExcluded | first 2 s (the agents' start-up, generator-limited) left out of RT and send lag; counts and QPS cover the whole round |";
    expect(renderSummary({ TaskName: 't', Status: 'Completed', Result: { ...result, WarmupExcludedS: 2 } })).toContain(row);
    expect(renderSummary({ TaskName: 't', Status: 'Completed', Result: result })).not.toContain('WarmupExcluded');
  });

  test('the summary of a round with no requests says so', () => {
    expect(renderSummary({ TaskName: 't', Status: 'Stopped' })).toBe('Summary of benchmark task t (Stopped):\nNo requests were recorded.');
  });
});
