import * as tty from 'node:tty';
import inquirer from 'inquirer';

/**
 * Confirmation for stop/start/delete (SPEC 2.2): inquirer on a terminal;
 * `-y` skips the question; with a piped stdin one line is read, so
 * `echo y | eascmd bench stop N` works.
 */

/** y, yes or an empty answer (the default of `[Y/n]`) confirm; anything else cancels. */
export function parseConfirmAnswer(answer: string): boolean {
  const text = answer.trim().toLowerCase();
  return text === '' || text === 'y' || text === 'yes';
}

/**
 * Reads one line (without its line ending). End of input counts as the line
 * read so far, so `eascmd ... < /dev/null` gets an empty answer. Stops
 * reading afterwards so stdin does not keep the process alive.
 */
export function readLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const finish = (line: string): void => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      input.pause();
      resolve(line.replace(/\r$/, ''));
    };
    const onData = (chunk: string | Buffer): void => {
      buffer += chunk.toString();
      const newline = buffer.indexOf('\n');
      if (newline >= 0) finish(buffer.slice(0, newline));
    };
    const onEnd = (): void => finish(buffer);
    const onError = (err: Error): void => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      reject(err);
    };
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    input.resume();
  });
}

export interface ConfirmOptions {
  /** `-y/--yes`: answer yes without asking. */
  yes: boolean;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where the question goes (stderr under --json, so stdout stays JSON). */
  output: NodeJS.WritableStream;
}

/** Asks `question` (without the `[Y/n]` suffix). */
export async function confirm(question: string, options: ConfirmOptions): Promise<boolean> {
  if (options.yes) return true;
  if (options.stdin instanceof tty.ReadStream && options.stdin.isTTY) {
    const prompt = inquirer.createPromptModule({
      input: options.stdin,
      ...(options.output instanceof tty.WriteStream ? { output: options.output } : {}),
    });
    // An input prompt with the reference's `[Y/n]` as its suffix and no `?`
    // prefix, so the terminal shows the reference's line; inquirer's confirm
    // would add its own `(Y/n)` hint.
    const answer = await prompt<{ text: string }>([{ type: 'input', name: 'text', message: question, prefix: '', suffix: ' [Y/n]' }]);
    return parseConfirmAnswer(answer.text);
  }
  options.output.write(`${question} [Y/n]\n`);
  return parseConfirmAnswer(await readLine(options.stdin));
}
