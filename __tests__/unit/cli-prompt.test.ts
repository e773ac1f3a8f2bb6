import { PassThrough, Writable } from 'node:stream';
import { confirm, parseConfirmAnswer, readLine } from '../../src/cli/prompt';

function sink(): Writable & { text: string } {
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.text += chunk.toString();
      done();
    },
  }) as Writable & { text: string };
  out.text = '';
  return out;
}

describe('cli confirmation prompt', () => {
  test.each([
    ['y', true],
    ['Y', true],
    ['yes', true],
    ['YES', true],
    ['  Yes  ', true],
    ['', true],
    ['   ', true],
    ['n', false],
    ['no', false],
    ['yep', false],
    ['ja', false],
    ['y y', false],
  ])('answer %j confirms: %s', (answer, expected) => {
    expect(parseConfirmAnswer(answer)).toBe(expected);
  });

  test('readLine takes the first line (CRLF too) and leaves the rest', async () => {
    const input = new PassThrough();
    input.end('yes\r\nsecond line\n');
    await expect(readLine(input)).resolves.toBe('yes');
  });

  test('readLine treats end of input as the line so far (an empty stdin answers "")', async () => {
    const empty = new PassThrough();
    empty.end();
    await expect(readLine(empty)).resolves.toBe('');
    const partial = new PassThrough();
    partial.end('n');
    await expect(readLine(partial)).resolves.toBe('n');
  });

  test('readLine copes with the answer arriving in pieces', async () => {
    const input = new PassThrough();
    const line = readLine(input);
    input.write('y');
    input.write('e');
    input.write('s\n');
    await expect(line).resolves.toBe('yes');
  });

  test('confirm on a piped stdin prints the question with [Y/n] and reads one line', async () => {
    const input = new PassThrough();
    input.end('no\n');
    const out = sink();
    await expect(confirm('Are you sure to stop the benchmark task [t] in [cn-local]?', { yes: false, stdin: input, output: out })).resolves.toBe(false);
    expect(out.text).toBe('Are you sure to stop the benchmark task [t] in [cn-local]? [Y/n]\n');
  });

  test('confirm with --yes asks nothing', async () => {
    const out = sink();
    await expect(confirm('Sure?', { yes: true, stdin: new PassThrough(), output: out })).resolves.toBe(true);
    expect(out.text).toBe('');
  });
});
