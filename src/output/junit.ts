import { exitCodeForVerdict, RoundResultResponse, ThresholdResult } from '../contract';

/** XML text and attribute values: the five predefined entities, and no control character XML 1.0 forbids. */
function xml(text: string): string {
  return text
    .split('')
    .filter((c) => c >= ' ' || c === '\t' || c === '\n' || c === '\r')
    .join('')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

const attrs = (pairs: Record<string, string | number>): string =>
  Object.entries(pairs)
    .map(([k, v]) => ` ${k}="${xml(String(v))}"`)
    .join('');

function testcase(classname: string, name: string, failure?: { message: string; type: string; body: string }): string {
  const head = `    <testcase${attrs({ classname, name, time: 0 })}`;
  if (!failure) return `${head}/>`;
  return `${head}>\n      <failure${attrs({ message: failure.message, type: failure.type })}>${xml(failure.body)}</failure>\n    </testcase>`;
}

function thresholdCase(classname: string, t: ThresholdResult): string {
  const measured = t.Value === null ? 'not measured' : String(t.Value);
  const name = `threshold ${t.Metric} ${t.Expr}`;
  if (t.Passed) return testcase(classname, name);
  return testcase(classname, name, { type: 'threshold', message: `${t.Metric} = ${measured}, expected ${t.Expr}`, body: `${t.Metric} measured ${measured}; the threshold is ${t.Metric} ${t.Expr}${t.AbortOnFail ? ' (abortOnFail)' : ''}` });
}

/**
 * `bench report --format junit`: one testsuite for the round, one testcase
 * per threshold (a failed one carries a `<failure>` with the measured value)
 * and one for the round's outcome, failed when its exit code is not 0 (a
 * failed threshold or no result; docs/report.md).
 */
export function renderJunit(round: Omit<RoundResultResponse, 'RequestId'>): string {
  const classname = `eas-bench.${round.TaskName}`;
  const cases = round.Thresholds.map((t) => thresholdCase(classname, t));
  const outcome = round.Verdict.Outcome;
  cases.push(
    exitCodeForVerdict(round.Verdict) === 0
      ? testcase(classname, 'round outcome')
      : testcase(classname, 'round outcome', { type: outcome, message: `round ${round.RoundId}: ${outcome}`, body: round.Verdict.Text }),
  );
  const failures = cases.filter((c) => c.includes('<failure')).length;
  const suite = attrs({ name: `${round.TaskName} round ${round.RoundId}`, tests: cases.length, failures, errors: 0, skipped: 0, time: round.Result.DurationS, timestamp: round.StartTime.replace(' ', 'T') });
  const properties = [
    ['service', round.ServiceName],
    ['mode', round.Mode],
    ['status', round.Status],
    ['verdict', round.Verdict.Text],
  ]
    .map(([name, value]) => `      <property${attrs({ name, value })}/>`)
    .join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'eas-bench', tests: cases.length, failures, errors: 0, time: round.Result.DurationS })}>`,
    `  <testsuite${suite}>`,
    `    <properties>\n${properties}\n    </properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
