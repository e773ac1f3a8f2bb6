import { PIECE_OVERHEAD_BYTES, ResponseTooLargeError } from './response-limits';

/** One server-sent event: its `event` field (default "message") and its data lines joined by "\n". */
export interface SseEvent {
  event: string;
  data: string;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Incremental parser of a `text/event-stream` body (the WHATWG rules that
 * OpenAI-compatible servers follow). Bytes may arrive split anywhere, inside
 * a line or inside a multi-byte UTF-8 character: a line is decoded only once
 * its terminator (LF, CR or CRLF) has arrived, and the terminators are ASCII,
 * so a character is never cut. Comment lines (`:`) are skipped, `data:` may
 * or may not be followed by a space, and an event ends at a blank line.
 * What waits for its end (a line, an event's data lines) is bounded by
 * `maxEventBytes`: past it, `feed` throws a ResponseTooLargeError.
 */
export class SseParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of the data lines of the event not ended yet. */
  private dataBytes = 0;
  /** The previous chunk ended with CR: an LF at the start of the next one belongs to it. */
  private skipLf = false;
  private eventName = '';
  private dataLines: string[] = [];
  private hasData = false;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly maxEventBytes = Number.POSITIVE_INFINITY) {}

  /** Bytes kept until their line or event ends, with what each kept piece costs beside its bytes. */
  get heldBytes(): number {
    return this.pendingBytes + this.dataBytes;
  }

  /** Feeds bytes; returns the events they complete, in order. */
  feed(chunk: Uint8Array): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === LF && this.skipLf && i === start) {
        this.skipLf = false;
        start = i + 1;
        continue;
      }
      this.skipLf = false;
      if (byte !== LF && byte !== CR) continue;
      this.keep(Buffer.from(chunk.buffer, chunk.byteOffset + start, i - start));
      this.line(events);
      if (byte === CR) {
        if (i + 1 < chunk.length) {
          if (chunk[i + 1] === LF) i++;
        } else {
          this.skipLf = true;
        }
      }
      start = i + 1;
    }
    // Keep a copy: the caller may reuse its buffer.
    if (start < chunk.length) this.keep(Buffer.from(chunk.subarray(start)));
    return events;
  }

  private keep(bytes: Buffer): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length + PIECE_OVERHEAD_BYTES;
    if (this.pendingBytes + this.dataBytes > this.maxEventBytes) {
      this.pending = [];
      this.pendingBytes = 0;
      throw new ResponseTooLargeError(this.dataBytes > 0 ? 'an SSE event' : 'an SSE line', this.maxEventBytes);
    }
  }

  /** The stream ended: an event not closed by a blank line still counts, as most clients treat it. */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.pending.length > 0) this.line(events);
    this.dispatch(events);
    return events;
  }

  private line(events: SseEvent[]): void {
    const bytes = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const text = this.decoder.decode(bytes);
    if (text === '') {
      this.dispatch(events);
      return;
    }
    if (text.charCodeAt(0) === 0x3a) return; // ":" comment, e.g. keep-alive pings
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    if (field === 'data') {
      this.dataLines.push(value);
      this.dataBytes += bytes.length + PIECE_OVERHEAD_BYTES;
      this.hasData = true;
    } else if (field === 'event') {
      this.eventName = value;
    }
    // id and retry do not matter to a benchmark
  }

  private dispatch(events: SseEvent[]): void {
    if (this.hasData) events.push({ event: this.eventName || 'message', data: this.dataLines.join('\n') });
    this.eventName = '';
    this.dataLines = [];
    this.dataBytes = 0;
    this.hasData = false;
  }
}
