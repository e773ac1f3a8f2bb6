/** A response head longer than this is refused (a service sending one is broken). */
const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size or trailer line longer than this is refused. */
const MAX_LINE_BYTES = 8 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const LF = 0x0a;

function isDigit(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  return code >= 0x30 && code <= 0x39;
}

/** Where the parser says how a response ended. */
export interface ResponseHandlers {
  /** The final response is complete; `close` when the connection cannot carry another request. */
  onComplete(status: number, bytesIn: number, close: boolean): void;
  /** The bytes are not HTTP/1.x, or the connection ended mid-response. */
  onError(reason: string): void;
}

const enum State {
  /** No request in flight: any byte is an error (no pipelining). */
  Idle,
  Head,
  LengthBody,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  /** No length and not chunked: the body ends when the connection does. */
  UntilClose,
  Failed,
}

/**
 * The part of HTTP/1.1 a load generator needs from a response: its status,
 * how many bytes it took, where its body ends (Content-Length, chunked, or the
 * connection's end) and whether the connection stays open. Header values other
 * than those are not looked at, and the body is counted, never kept.
 * 1xx interim heads (100 Continue, 103 Early Hints) are counted and skipped.
 */
export class ResponseParser {
  private state = State.Idle;
  private noBody = false;
  private status = 0;
  private bytesIn = 0;
  private close = false;
  private remaining = 0;
  /** Head or line bytes split across packets. */
  private pending: Buffer | null = null;

  constructor(private readonly handlers: ResponseHandlers) {}

  /** A request went out: the next bytes are its response. `noBody` for HEAD (its answer has headers only). */
  expect(noBody: boolean): void {
    this.state = State.Head;
    this.noBody = noBody;
    this.status = 0;
    this.bytesIn = 0;
    this.close = false;
    this.pending = null;
  }

  get idle(): boolean {
    return this.state === State.Idle;
  }

  /** Bytes read from the connection. */
  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      switch (this.state) {
        case State.Idle:
          this.fail('bytes received with no request in flight');
          return;
        case State.Failed:
          return;
        case State.Head:
          at = this.readHead(chunk, at);
          break;
        case State.LengthBody: {
          const take = Math.min(this.remaining, chunk.length - at);
          this.remaining -= take;
          this.bytesIn += take;
          at += take;
          if (this.remaining === 0) this.complete();
          break;
        }
        case State.ChunkSize:
          at = this.readLine(chunk, at, (line) => this.chunkSize(line));
          break;
        case State.ChunkData: {
          const take = Math.min(this.remaining, chunk.length - at);
          this.remaining -= take;
          this.bytesIn += take;
          at += take;
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        }
        case State.ChunkDataEnd:
          at = this.readLine(chunk, at, (line) => (line.length === 0 ? (this.state = State.ChunkSize) : this.fail('chunk data longer than its size')));
          break;
        case State.Trailers:
          at = this.readLine(chunk, at, (line) => {
            if (line.length === 0) this.complete();
          });
          break;
        case State.UntilClose:
          this.bytesIn += chunk.length - at;
          at = chunk.length;
          break;
      }
    }
  }

  /** The connection ended (the peer closed it or it failed): completes a body that runs to the end, fails one cut short. */
  end(): void {
    if (this.state === State.UntilClose) {
      this.close = true;
      this.complete();
    } else if (this.state !== State.Idle && this.state !== State.Failed) {
      this.fail(this.state === State.Head && this.bytesIn === 0 && this.pending === null ? 'connection closed before a response' : 'connection closed mid-response');
    }
  }

  private readHead(chunk: Buffer, at: number): number {
    let data = chunk;
    let from = at;
    if (this.pending) {
      data = Buffer.concat([this.pending, chunk.subarray(at)]);
      from = 0;
    }
    const end = data.indexOf(CRLFCRLF, from);
    if (end < 0) {
      if (data.length - from > MAX_HEAD_BYTES) this.fail('response head too large');
      else this.pending = Buffer.from(data.subarray(from));
      return chunk.length;
    }
    const headEnd = end + 4;
    const consumed = this.pending ? headEnd - this.pending.length + at : headEnd;
    this.pending = null;
    this.parseHead(data.toString('latin1', from, end), headEnd - from);
    return consumed;
  }

  private parseHead(head: string, bytes: number): void {
    this.bytesIn += bytes;
    const lineEnd = head.indexOf('\r\n');
    const statusLine = lineEnd < 0 ? head : head.slice(0, lineEnd);
    // "HTTP/1.1 200 OK": version, a space, three digits, then a space or the end
    if (!statusLine.startsWith('HTTP/1.') || statusLine.charCodeAt(8) !== 0x20 || !isDigit(statusLine, 9) || !isDigit(statusLine, 10) || !isDigit(statusLine, 11) || (statusLine.length > 12 && statusLine.charCodeAt(12) !== 0x20)) {
      this.fail(`malformed status line: ${JSON.stringify(statusLine.slice(0, 40))}`);
      return;
    }
    const status = Number(statusLine.slice(9, 12));
    const http10 = statusLine.charCodeAt(7) === 0x30;
    if (status < 200) {
      // 101 would switch protocols: a load generator asks for no upgrade, so treat it as an answer that ends the connection
      if (status === 101) {
        this.status = status;
        this.close = true;
        this.complete();
      }
      return; // interim: the final head follows
    }
    this.status = status;
    let length = -1;
    let chunked = false;
    let connection = '';
    // one pass over the header lines; only three names matter, told apart by length before comparing
    for (let start = lineEnd < 0 ? head.length : lineEnd + 2; start < head.length; ) {
      let end = head.indexOf('\r\n', start);
      if (end < 0) end = head.length;
      const colon = head.indexOf(':', start);
      if (colon > start && colon < end) {
        const nameLength = colon - start;
        if (nameLength === 14 || nameLength === 17 || nameLength === 10) {
          const name = head.slice(start, colon).toLowerCase();
          const value = head.slice(colon + 1, end).trim();
          if (name === 'content-length') {
            if (!/^\d+$/.test(value) || (length >= 0 && Number(value) !== length)) {
              this.fail(`invalid content-length: ${JSON.stringify(value.slice(0, 40))}`);
              return;
            }
            length = Number(value);
          } else if (name === 'transfer-encoding') chunked = value.toLowerCase().endsWith('chunked');
          else if (name === 'connection') connection = value.toLowerCase();
        }
      }
      start = end + 2;
    }
    this.close = http10 ? !connection.includes('keep-alive') : connection.includes('close');
    if (this.noBody || status === 204 || status === 304) this.complete();
    else if (chunked) this.state = State.ChunkSize;
    else if (length > 0) {
      this.remaining = length;
      this.state = State.LengthBody;
    } else if (length === 0) this.complete();
    else {
      this.close = true;
      this.state = State.UntilClose;
    }
  }

  /** Reads one CRLF-ended line (the CR optional), which may span packets, and hands it over without its end. */
  private readLine(chunk: Buffer, at: number, onLine: (line: string) => void): number {
    const lf = chunk.indexOf(LF, at);
    if (lf < 0) {
      const rest = chunk.subarray(at);
      this.pending = this.pending ? Buffer.concat([this.pending, rest]) : Buffer.from(rest);
      if (this.pending.length > MAX_LINE_BYTES) this.fail('line too long in a chunked body');
      return chunk.length;
    }
    this.bytesIn += lf + 1 - at + (this.pending ? this.pending.length : 0);
    let line = chunk.toString('latin1', at, lf);
    if (this.pending) {
      line = this.pending.toString('latin1') + line;
      this.pending = null;
    }
    onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    return lf + 1;
  }

  private chunkSize(line: string): void {
    const semi = line.indexOf(';'); // chunk extensions are allowed and ignored
    const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) {
      this.fail(`invalid chunk size: ${JSON.stringify(hex.slice(0, 40))}`);
      return;
    }
    const size = parseInt(hex, 16);
    if (size === 0) this.state = State.Trailers;
    else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
  }

  private complete(): void {
    this.state = State.Idle;
    this.handlers.onComplete(this.status, this.bytesIn, this.close);
  }

  private fail(reason: string): void {
    this.state = State.Failed;
    this.pending = null;
    this.handlers.onError(reason);
  }
}
