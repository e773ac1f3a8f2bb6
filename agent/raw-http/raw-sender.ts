import type { RequestTemplate } from '../../src/contract';
import { CAUSE } from '../error-cause';
import { AbandonReason, ResultSink, SenderCore, SentRequest, STATUS_CONNECTION_FAILED } from '../sender-core';
import { ConnectionEvents, RawConnection } from './raw-connection';
import { encodeRequests } from './request-encoder';

/** A request of the raw sender: its prepared form is the encoded request itself. */
type RawRequest = SentRequest<RawConnection<RawRequest>, Buffer>;

/**
 * The HTTP sender for plain http:// targets without undici: each request is a
 * Buffer encoded once per load and written straight to a keep-alive socket,
 * and a minimal parser finds where its answer ends. Queueing, the connection
 * cap, timeouts and outcomes are the shared core's, as for the undici sender:
 * the same outcomes (status, 512 on timeout, 599 on a failed connection or a
 * malformed answer), the same FIFO of waiting requests, and connections
 * opened ahead by `prepare`.
 */
export class RawHttpSender extends SenderCore<RawConnection<RawRequest>, Buffer, RawRequest> implements ConnectionEvents<RawRequest> {
  private readonly host: string;
  private readonly port: number;
  private readonly noBody: boolean;

  constructor(template: RequestTemplate, startOffset: number, sink: ResultSink) {
    const encoded = encodeRequests(template);
    super(encoded.requests, startOffset, template.timeoutMs, sink, encoded.names);
    this.host = encoded.host;
    this.port = encoded.port;
    this.noBody = encoded.noBody;
  }

  onResponse(connection: RawConnection<RawRequest>, status: number, bytesIn: number, reusable: boolean): void {
    const request = this.takeCarried(connection);
    if (reusable) this.release(connection);
    else this.replace(connection);
    if (request) this.record(request, status, bytesIn, CAUSE.none);
  }

  onFailure(connection: RawConnection<RawRequest>, _reason: string, cause: number): void {
    const request = this.takeCarried(connection);
    if (!request) {
      this.onIdleClose(connection); // bytes on an idle connection: it is dropped from the idle ones
      return;
    }
    this.replace(connection);
    this.record(request, STATUS_CONNECTION_FAILED, 0, cause);
  }

  onIdleClose(connection: RawConnection<RawRequest>): void {
    this.forget(connection);
  }

  protected createRequest(): RawRequest {
    return new SentRequest<RawConnection<RawRequest>, Buffer>(this);
  }

  protected bytesOut(encoded: Buffer): number {
    return encoded.length;
  }

  protected connect(): RawConnection<RawRequest> {
    return new RawConnection<RawRequest>(this.host, this.port, this.connectTimeoutMs, this);
  }

  protected isOpen(connection: RawConnection<RawRequest>): boolean {
    return connection.open;
  }

  protected transmit(connection: RawConnection<RawRequest>, request: RawRequest): void {
    connection.carried = request;
    connection.send(request.prepared!, this.noBody);
  }

  /**
   * A timed-out request's answer may still come: its connection is dropped
   * (and a waiting request gets a new one). At cancel the connection is just
   * dropped: the round is over.
   */
  protected abandon(request: RawRequest, reason: AbandonReason): void {
    const connection = request.connection!;
    if (connection.carried === request) this.takeCarried(connection);
    if (reason === 'timeout') this.replace(connection);
    else this.drop(connection);
  }

  protected discard(connection: RawConnection<RawRequest>): void {
    connection.destroy();
  }

  /** Opens the connections the load needs before `ready`; a failed connect is left to the first request. */
  protected async openAhead(count: number): Promise<void> {
    const opening = Array.from({ length: Math.max(0, count - this.all.size) }, () => this.newConnection());
    await Promise.all(
      opening.map(async (connection) => {
        if (await connection.ready()) {
          if (!connection.busy && connection.open && !this.closed) this.idle.push(connection);
        } else this.all.delete(connection);
      }),
    );
  }

  protected async closeAll(connections: RawConnection<RawRequest>[]): Promise<void> {
    for (const connection of connections) connection.destroy();
  }

  /** The request a connection carried, now off it: the connection will not call back about it. */
  private takeCarried(connection: RawConnection<RawRequest>): RawRequest | null {
    const request = connection.carried;
    connection.carried = null;
    if (request) request.onWire = false;
    return request;
  }
}
