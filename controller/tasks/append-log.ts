import * as fs from 'node:fs';

/** The few file operations an append log needs; tests give ones that fail on purpose. */
export interface AppendIo {
  size(file: string): number;
  append(file: string, text: string): void;
  truncate(file: string, length: number): void;
}

export const nodeAppendIo: AppendIo = {
  size(file) {
    try {
      return fs.statSync(file).size;
    } catch {
      return 0;
    }
  },
  append(file, text) {
    fs.appendFileSync(file, text, { mode: 0o600 });
  },
  truncate(file, length) {
    fs.truncateSync(file, length);
  },
};

/** What the last write of a log did; `error` is the errno code (ENOSPC, EACCES, ...). */
export interface AppendOutcome {
  written: boolean;
  /** Lines waiting in memory for a write that succeeds. */
  pending: number;
  error?: string;
}

/**
 * An append-only ndjson file that survives a full disk. A write that fails is
 * cut back to the last whole line, so no torn line is left in the middle of
 * the file; its lines wait in memory and go out, in order, with the next write
 * that succeeds. Nothing is dropped while the process lives.
 */
export class AppendLog {
  private committed: number;
  private pending: string[] = [];
  /** A failed write could not be cut back: the next write starts a fresh line. */
  private tornTail = false;
  private lastError?: string;

  constructor(readonly file: string, private readonly io: AppendIo = nodeAppendIo) {
    this.committed = io.size(file);
  }

  get pendingLines(): number {
    return this.pending.length;
  }

  /** The lines still waiting, for readers that must see everything recorded. */
  waiting(): readonly string[] {
    return this.pending;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  append(lines: string[]): AppendOutcome {
    this.pending.push(...lines);
    return this.flush();
  }

  /** Writes the waiting lines in one call, so a crash tears at most the last one. */
  flush(): AppendOutcome {
    if (this.pending.length === 0) return { written: true, pending: 0 };
    const text = `${this.tornTail ? '\n' : ''}${this.pending.join('\n')}\n`;
    try {
      this.io.append(this.file, text);
    } catch (err) {
      this.lastError = errorCode(err);
      this.cutBack();
      return { written: false, pending: this.pending.length, error: this.lastError };
    }
    // after a tail that could not be cut back the file is longer than what was counted: ask the file
    this.committed = this.tornTail ? this.io.size(this.file) : this.committed + Buffer.byteLength(text);
    this.pending = [];
    this.tornTail = false;
    this.lastError = undefined;
    return { written: true, pending: 0 };
  }

  private cutBack(): void {
    try {
      if (this.io.size(this.file) > this.committed) this.io.truncate(this.file, this.committed);
    } catch {
      this.tornTail = true;
    }
  }
}

export function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (err instanceof Error ? err.message : String(err));
}
