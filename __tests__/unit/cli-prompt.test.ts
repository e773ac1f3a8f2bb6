import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { confirm, parseConfirmAnswer, readLine } from '../../src/cli/prompt';
import { BIN } from '../helpers/processes';
import { tempHome } from './cli-run-helper';

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

  test('on a terminal the question reads as the reference prints it: no inquirer "?" prefix, [Y/n] and no (Y/n)', async () => {
    // a real pseudo-terminal: util-linux `script` runs the built eascmd with its stdin and stdout on one
    const home = tempHome();
    fs.mkdirSync(path.join(home, '.eas'));
    // nothing listens on port 1: a "no" sends nothing, so no controller is needed
    fs.writeFileSync(path.join(home, '.eas', 'config'), '[default]\naccess_id = a\naccess_key = b\nendpoint = http://127.0.0.1:1\nregion = cn-shanghai\n');
    // a terminal as wide as a usual one: inquirer breaks a question at the terminal's width
    const child = spawn('script', ['-qec', `stty cols 160; ${process.execPath} ${BIN.eascmd} bench stop benchmark-x-0000`, '/dev/null'], { env: { ...process.env, HOME: home, NO_COLOR: '1' } });
    let raw = '';
    child.stdout.on('data', (chunk: Buffer) => {
      raw += chunk.toString();
      // answer once the question is drawn
      if (raw.includes('[Y/n]') && child.stdin.writable) child.stdin.end('n\r');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    // eslint-disable-next-line no-control-regex -- the terminal's escape sequences are what is removed
    const text = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    const question = 'Are you sure to stop the benchmark task [benchmark-x-0000] in [cn-shanghai]? [Y/n] ';
    expect(text.split(/\r?\n/).some((line) => line.startsWith(question))).toBe(true);
    expect(text).not.toContain('(Y/n)');
    expect(text).not.toContain('? Are you sure');
    expect(text).toContain('Cancelled.');
  });
});
