import { connect, Socket } from 'node:net';
import { causeOfErrorCode, CAUSE } from '../error-cause';
import { ResponseParser } from './response-parser';

/** Where every raw connection's reads land (see the constructor); an answer longer than this comes in several reads. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** What a connection tells its sender. */
export interface ConnectionEvents<Carried> {
  /** The response to the request in flight is complete; `reusable` when the connection stays open for another. */
  onResponse(connection: RawConnection<Carried>, status: number, bytesIn: number, reusable: boolean): void;
  /** The request in flight failed on the wire (refused, reset, closed early, malformed answer: `cause`, a CAUSE); the connection is gone. */
  onFailure(connection: RawConnection<Carried>, reason: string, cause: number): void;
  /** The connection closed with no request in flight (the service dropped an idle keep-alive connection). */
  onIdleClose(connection: RawConnection<Carried>): void;
}

/**
 * One keep-alive connection over a plain `net.Socket`, one request at a time
 * (no pipelining). A request is one pre-encoded Buffer, so it goes out as one
 * write: there is nothing left for corking to gather on a connection, and
 * Nagle is off so the write leaves at once.
 */
export class RawConnection<Carried> {
  private readonly socket: Socket;
  private readonly parser: ResponseParser;
  /** Set while a request is on this connection. */
  busy = false;
  /** The sender's object for the request on this connection (kept here so that finding it costs nothing). */
  carried: Carried | null = null;
  private gone = false;
  private error: string | null = null;
  /** The class of the socket's error (CAUSE), read when the connection closes with a request on it. */
  private errorCause: number = CAUSE.other;
  private connected = false;

  constructor(host: string, port: number, connectTimeoutMs: number, private readonly events: ConnectionEvents<Carried>) {
    this.parser = new ResponseParser({
      onComplete: (status, bytesIn, close) => {
        this.busy = false;
        if (close) this.destroy();
        this.events.onResponse(this, status, bytesIn, !close);
      },
      onError: (reason, cause) => this.failed(reason, cause),
    });
    this.socket = connect({
      host,
      port,
      noDelay: true,
      // Reads land in one buffer shared by every connection instead of a new Buffer a read: the parser reads
      // each packet at once and copies what it keeps, and reads are handed over one at a time.
      onread: {
        buffer: READ_BUFFER,
        callback: (bytes: number): boolean => {
          this.parser.feed(READ_BUFFER, 0, bytes);
          return true; // keep reading
        },
      },
    });
    this.socket.setTimeout(connectTimeoutMs);
    this.socket.once('connect', () => {
      this.connected = true;
      this.socket.setTimeout(0);
    });
    this.socket.on('timeout', () => this.socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })));
    this.socket.on('error', (err: Error & { code?: string }) => {
      this.error = err.message;
      this.errorCause = causeOfErrorCode(err.code, this.parser.answering);
    });
    this.socket.on('close', () => this.closed());
  }

  get open(): boolean {
    return !this.gone;
  }

  /** Resolves once connected (true) or failed (false): used to open connections ahead of the schedule. */
  ready(): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    if (this.gone) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onConnect = (): void => {
        this.socket.removeListener('close', onClose);
        resolve(true);
      };
      const onClose = (): void => {
        this.socket.removeListener('connect', onConnect);
        resolve(false);
      };
      this.socket.once('connect', onConnect);
      this.socket.once('close', onClose);
    });
  }

  /** Writes one request; its answer comes through the events. */
  send(request: Buffer, noBody: boolean): void {
    this.busy = true;
    this.parser.expect(noBody);
    this.socket.write(request);
  }

  /** Drops the connection; no event follows for a request it carried (the sender has settled it). */
  destroy(): void {
    if (this.gone) return;
    this.gone = true;
    this.busy = false;
    this.socket.destroy();
  }

  private failed(reason: string, cause: number): void {
    if (this.gone) return;
    this.destroy();
    this.events.onFailure(this, reason, cause);
  }

  private closed(): void {
    if (this.gone) return;
    // a body that runs to the connection's end completes here; a cut one fails
    if (this.busy && this.error === null) this.parser.end();
    if (this.gone) return;
    if (this.busy) {
      if (this.error !== null) this.failed(this.error, this.errorCause);
      else this.failed('connection closed', this.parser.answering ? CAUSE.cut : CAUSE.reset);
    }
    else {
      this.gone = true;
      this.events.onIdleClose(this);
    }
  }
}
