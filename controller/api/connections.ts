import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Caps the open connections of each remote address: one over the cap is
 * destroyed as it is accepted, before any byte of it is parsed, so one client
 * holding many half-open connections (slowloris) cannot take them all.
 * `server.maxConnections` bounds them all together. Upgraded websockets stay
 * counted for as long as they are open.
 */
export function limitConnectionsPerClient(server: Server, maxPerClient: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    // an address is missing only when the socket is already gone
    const client = socket.remoteAddress;
    if (client === undefined) return socket.destroy();
    const count = open.get(client) ?? 0;
    if (count >= maxPerClient) return socket.destroy();
    open.set(client, count + 1);
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1;
      if (left > 0) open.set(client, left);
      else open.delete(client);
    });
  });
}
