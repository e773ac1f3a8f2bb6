import { interruptedError } from './errors';

/**
 * CTRL+C while a command follows a task (to Running, or to its end with
 * --wait): only the following stops, with a line that says the task keeps
 * running and how to follow or stop it, and exit code 130.
 */
export interface Interrupt {
  /** Rejects with an interruptedError on SIGINT; race every wait against it. */
  promise: Promise<never>;
  dispose(): void;
}

export function watchInterrupt(taskName: string): Interrupt {
  let onSigint: () => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    onSigint = () => reject(interruptedError(taskName));
  });
  // Nobody may be awaiting it at the moment the signal comes.
  promise.catch(() => undefined);
  // A listener replaces Node's default (exit at once, silently), so the command can say what became of the task.
  process.once('SIGINT', onSigint);
  return { promise, dispose: () => process.removeListener('SIGINT', onSigint) };
}
