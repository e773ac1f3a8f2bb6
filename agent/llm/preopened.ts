import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

const ignoreParkedError = (): void => undefined;

/**
 * Connections opened before a schedule starts, handed to the pool as it asks
 * for connections: a request due at a burst then goes on an open socket
 * instead of waiting for a handshake, so its send is on time. Once they are
 * used up (or closed by the service meanwhile), the pool connects as usual.
 */
export class PreopenedSockets {
  private readonly ready: Socket[] = [];
  private readonly connectNew = buildConnector({});

  /** Opens up to `count` connections to `origin`; one that fails is left out (the request path reports the service's state). */
  async open(origin: string, count: number): Promise<void> {
    const url = new URL(origin);
    const options = { hostname: url.hostname, host: url.host, protocol: url.protocol, port: url.port };
    const opened = await Promise.all(
      Array.from({ length: count }, () => new Promise<Socket | null>((resolve) => this.connectNew(options, (err, socket) => resolve(err ? null : (socket as Socket))))),
    );
    for (const socket of opened) {
      if (!socket) continue;
      // parked: a reset while it waits must not throw (it is skipped when the pool asks)
      socket.on('error', ignoreParkedError);
      this.ready.push(socket);
    }
  }

  /** The pool's `connect`: an open socket while one is left, else a new connection. */
  readonly connect: buildConnector.connector = (options, callback) => {
    for (let socket = this.ready.pop(); socket; socket = this.ready.pop()) {
      socket.off('error', ignoreParkedError);
      if (!socket.destroyed) return process.nextTick(callback, null, socket);
    }
    this.connectNew(options, callback);
  };

  get count(): number {
    return this.ready.length;
  }

  /** Closes what the pool never took. */
  destroy(): void {
    for (const socket of this.ready.splice(0)) socket.destroy();
  }
}
