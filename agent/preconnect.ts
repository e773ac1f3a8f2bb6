import { isIP, Socket } from 'node:net';
import { buildConnector } from 'undici';

/**
 * Connections opened before the schedule starts. Opening a connection costs
 * a round trip and, at a high rate, the first requests of a round would
 * queue behind a storm of connects: the round's latency would be the
 * agent's start-up, not the service. The sender hands this connector to its
 * undici Clients; a Client takes an already open socket when one is left,
 * and connects as usual otherwise.
 */
export class Preconnector {
  private readonly fresh: buildConnector.connector;
  private readonly ready: Socket[] = [];
  private closed = false;
  /** The connector the Clients use. */
  readonly connect: buildConnector.connector = (options, callback) => {
    for (let socket = this.ready.pop(); socket; socket = this.ready.pop()) {
      socket.removeListener('error', ignore);
      if (!socket.destroyed && socket.readyState === 'open') {
        // undici expects the answer after its connect call has returned, as a real connect gives it
        const open = socket;
        queueMicrotask(() => callback(null, open));
        return;
      }
    }
    this.fresh(options, callback);
  };

  constructor(
    private readonly origin: URL,
    timeoutMs: number,
  ) {
    this.fresh = buildConnector({ timeout: timeoutMs });
  }

  /** Open sockets waiting for a Client. */
  get size(): number {
    return this.ready.length;
  }

  /** Opens up to `count` connections at once; resolves when all are open or failed (a failure is left to the first request). */
  async fill(count: number): Promise<number> {
    const opened = await Promise.all(Array.from({ length: Math.max(0, count - this.ready.length) }, () => this.openOne()));
    return opened.filter(Boolean).length;
  }

  close(): void {
    this.closed = true;
    for (const socket of this.ready.splice(0)) socket.destroy();
  }

  private openOne(): Promise<boolean> {
    const url = this.origin;
    return new Promise((resolve) => {
      this.fresh(
        { hostname: url.hostname, host: url.host, protocol: url.protocol, port: url.port || (url.protocol === 'https:' ? '443' : '80'), servername: isIP(url.hostname) ? undefined : url.hostname },
        (err, socket) => {
          if (err || !socket) {
            resolve(false);
            return;
          }
          if (this.closed) {
            socket.destroy();
            resolve(false);
            return;
          }
          // An idle socket the service closes is skipped when handed out; its error must not crash the agent meanwhile.
          socket.on('error', ignore);
          this.ready.push(socket);
          resolve(true);
        },
      );
    });
  }
}

function ignore(): void {
  // the socket is dropped when handed out
}
