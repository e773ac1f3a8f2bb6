import { CAUSE } from '../error-cause';
/** A response head longer than this is refused (a service sending one is broken). */
const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size or trailer line longer than this is refused. */
const MAX_LINE_BYTES = 8 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
const HTTP1_PREFIX = Buffer.from('HTTP/1.', 'latin1');
const LF = 0x0a;
const SPACE = 0x20;
const COLON = 0x3a;
const ZERO = 0x30;
// header names and tokens compared without case, as lower-case bytes
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding', 'latin1');
const CONNECTION = Buffer.from('connection', 'latin1');
const CHUNKED = Buffer.from('chunked', 'latin1');
const CLOSE = Buffer.from('close', 'latin1');
const KEEP_ALIVE = Buffer.from('keep-alive', 'latin1');
/** More digits than this in a Content-Length could not be a real body (and would lose precision). */
const MAX_LENGTH_DIGITS = 15;

function isDigit(byte: number): boolean {
  return byte >= ZERO && byte <= 0x39;
}

function isBlank(byte: number): boolean {
  return byte === SPACE || byte === 0x09;
}

function lower(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}

function startsWith(data: Buffer, at: number, prefix: Buffer): boolean {
  for (let i = 0; i < prefix.length; i++) if (data[at + i] !== prefix[i]) return false;
  return true;
}

/** Whether the bytes at `at` are `name` (lower case) in any case. */
function sameName(data: Buffer, at: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) if (lower(data[at + i]) !== name[i]) return false;
  return true;
}

/** Whether `token` (lower case) stands anywhere from `from` to `to`, in any case. */
function contains(data: Buffer, from: number, to: number, token: Buffer): boolean {
  for (let at = from; at + token.length <= to; at++) if (sameName(data, at, token)) return true;
  return false;
}

/** The decimal number from `from` to `to`, or -1 when it is empty or not all digits. */
function digitsValue(data: Buffer, from: number, to: number): number {
  if (from === to || to - from > MAX_LENGTH_DIGITS) return -1;
  let value = 0;
  for (let at = from; at < to; at++) {
    if (!isDigit(data[at])) return -1;
    value = value * 10 + (data[at] - ZERO);
  }
  return value;
}

/** Where the parser says how a response ended. */
export interface ResponseHandlers {
  /** The final response is complete; `close` when the connection cannot carry another request. */
  onComplete(status: number, bytesIn: number, close: boolean): void;
  /** The bytes are not HTTP/1.x (`cause` CAUSE.protocol), or the connection ended before or during the response (reset, cut). */
  onError(reason: string, cause: number): void;
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

  /** Part of the answer has arrived: a connection that ends now cuts the response (rather than dropping the request). */
  get answering(): boolean {
    return this.state !== State.Idle && this.state !== State.Failed && (this.state !== State.Head || this.bytesIn > 0 || this.pending !== null);
  }

  /**
   * Bytes read from the connection: `chunk` from `start` to `end` (a read
   * buffer shared by every connection holds more; nothing past `end` is
   * read, and nothing of it is kept after the call: what must wait for the
   * next packet is copied).
   */
  feed(chunk: Buffer, start = 0, end = chunk.length): void {
    let at = start;
    while (at < end) {
      switch (this.state) {
        case State.Idle:
          this.fail('bytes received with no request in flight');
          return;
        case State.Failed:
          return;
        case State.Head:
          at = this.readHead(chunk, at, end);
          break;
        case State.LengthBody:
          at = this.countBody(at, end);
          if (this.remaining === 0) this.complete();
          break;
        case State.ChunkSize:
          at = this.readLine(chunk, at, end, (line) => this.chunkSize(line));
          break;
        case State.ChunkData:
          at = this.countBody(at, end);
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        case State.ChunkDataEnd:
          at = this.readLine(chunk, at, end, (line) => (line.length === 0 ? (this.state = State.ChunkSize) : this.fail('chunk data longer than its size')));
          break;
        case State.Trailers:
          at = this.readLine(chunk, at, end, (line) => {
            if (line.length === 0) this.complete();
          });
          break;
        case State.UntilClose:
          this.bytesIn += end - at;
          at = end;
          break;
      }
    }
  }

  /** Counts body bytes from `at` up to what is `remaining` of the body or chunk; returns where it stopped. */
  private countBody(at: number, end: number): number {
    const take = Math.min(this.remaining, end - at);
    this.remaining -= take;
    this.bytesIn += take;
    return at + take;
  }

  /** The connection ended (the peer closed it or it failed): completes a body that runs to the end, fails one cut short. */
  end(): void {
    if (this.state === State.UntilClose) {
      this.close = true;
      this.complete();
    } else if (this.state !== State.Idle && this.state !== State.Failed) {
      if (this.answering) this.fail('connection closed mid-response', CAUSE.cut);
      else this.fail('connection closed before a response', CAUSE.reset);
    }
  }

  private readHead(chunk: Buffer, at: number, end: number): number {
    let data = chunk;
    let from = at;
    let to = end;
    if (this.pending) {
      data = Buffer.concat([this.pending, chunk.subarray(at, end)]);
      from = 0;
      to = data.length;
    }
    let headEnd = data.indexOf(CRLFCRLF, from);
    if (headEnd >= 0 && headEnd + 4 > to) headEnd = -1; // past the window: bytes of an earlier read
    if (headEnd < 0) {
      if (to - from > MAX_HEAD_BYTES) this.fail('response head too large');
      else this.pending = Buffer.from(data.subarray(from, to));
      return end;
    }
    const consumed = this.pending ? headEnd + 4 - this.pending.length + at : headEnd + 4;
    this.pending = null;
    this.parseHead(data, from, headEnd);
    return consumed;
  }

  /**
   * The head from `from` to `end` (its blank line excluded), read as bytes:
   * no string is made of it unless it is malformed (for the message).
   */
  private parseHead(data: Buffer, from: number, end: number): void {
    this.bytesIn += end + 4 - from;
    let lineEnd = data.indexOf(CRLF, from);
    if (lineEnd < 0 || lineEnd > end) lineEnd = end;
    // "HTTP/1.1 200 OK": version, a space, three digits, then a space or the end
    const length = lineEnd - from;
    if (length < 12 || !startsWith(data, from, HTTP1_PREFIX) || data[from + 8] !== SPACE || !isDigit(data[from + 9]) || !isDigit(data[from + 10]) || !isDigit(data[from + 11]) || (length > 12 && data[from + 12] !== SPACE)) {
      this.fail(`malformed status line: ${JSON.stringify(data.toString('latin1', from, Math.min(lineEnd, from + 40)))}`);
      return;
    }
    const status = (data[from + 9] - ZERO) * 100 + (data[from + 10] - ZERO) * 10 + (data[from + 11] - ZERO);
    // RFC 9110 15: a code below 100 is no status (undici refuses it too); `000` read as interim left the request waiting for its timeout (512)
    if (status < 100) {
      this.fail(`invalid status code ${status.toString().padStart(3, '0')}`);
      return;
    }
    const http10 = data[from + 7] === ZERO;
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
    let contentLength = -1;
    let chunked = false;
    let connectionClose = false;
    let connectionKeepAlive = false;
    // one pass over the header lines; only three names matter, told apart by length before comparing
    for (let start = lineEnd + 2; start < end; ) {
      let stop = data.indexOf(CRLF, start);
      if (stop < 0 || stop > end) stop = end;
      const colon = data.indexOf(COLON, start);
      if (colon > start && colon < stop) {
        let valueStart = colon + 1;
        let valueEnd = stop;
        while (valueStart < valueEnd && isBlank(data[valueStart])) valueStart++;
        while (valueEnd > valueStart && isBlank(data[valueEnd - 1])) valueEnd--;
        const nameLength = colon - start;
        if (nameLength === CONTENT_LENGTH.length && sameName(data, start, CONTENT_LENGTH)) {
          const value = digitsValue(data, valueStart, valueEnd);
          if (value < 0 || (contentLength >= 0 && value !== contentLength)) {
            this.fail(`invalid content-length: ${JSON.stringify(data.toString('latin1', valueStart, Math.min(valueEnd, valueStart + 40)))}`);
            return;
          }
          contentLength = value;
        } else if (nameLength === TRANSFER_ENCODING.length && sameName(data, start, TRANSFER_ENCODING)) {
          chunked = valueEnd - valueStart >= CHUNKED.length && sameName(data, valueEnd - CHUNKED.length, CHUNKED);
        } else if (nameLength === CONNECTION.length && sameName(data, start, CONNECTION)) {
          // the last Connection header counts, as its tokens are looked for anywhere in its value
          connectionClose = contains(data, valueStart, valueEnd, CLOSE);
          connectionKeepAlive = contains(data, valueStart, valueEnd, KEEP_ALIVE);
        }
      }
      start = stop + 2;
    }
    this.close = http10 ? !connectionKeepAlive : connectionClose;
    if (this.noBody || status === 204 || status === 304) this.complete();
    else if (chunked) this.state = State.ChunkSize;
    else if (contentLength > 0) {
      this.remaining = contentLength;
      this.state = State.LengthBody;
    } else if (contentLength === 0) this.complete();
    else {
      this.close = true;
      this.state = State.UntilClose;
    }
  }

  /** Reads one CRLF-ended line (the CR optional), which may span packets, and hands it over without its end. */
  private readLine(chunk: Buffer, at: number, end: number, onLine: (line: string) => void): number {
    let lf = chunk.indexOf(LF, at);
    if (lf >= end) lf = -1; // past the window: bytes of an earlier read
    if (lf < 0) {
      const rest = chunk.subarray(at, end);
      this.pending = this.pending ? Buffer.concat([this.pending, rest]) : Buffer.from(rest);
      if (this.pending.length > MAX_LINE_BYTES) this.fail('line too long in a chunked body');
      return end;
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

  private fail(reason: string, cause: number = CAUSE.protocol): void {
    this.state = State.Failed;
    this.pending = null;
    this.handlers.onError(reason, cause);
  }
}
