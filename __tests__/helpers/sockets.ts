import * as fs from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

const LISTEN = '0A';

/** The local addresses listening on a TCP port, read from /proc/net/tcp{,6} (Linux): what a process really bound, not what it printed. */
export function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const [file, decode] of [['/proc/net/tcp', ipv4], ['/proc/net/tcp6', ipv6]] as const) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== LISTEN) continue;
      const [hexAddr, hexPort] = cols[1].split(':');
      if (parseInt(hexPort, 16) === port) found.push(decode(hexAddr));
    }
  }
  return found;
}

/** /proc writes an IPv4 address as one little-endian 32-bit word. */
function ipv4(hex: string): string {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

/** ... and an IPv6 address as four of them; only the forms a test meets are named. */
function ipv6(hex: string): string {
  const bytes = [0, 8, 16, 24].flatMap((w) => [6, 4, 2, 0].map((i) => parseInt(hex.slice(w + i, w + i + 2), 16)));
  if (bytes.every((b) => b === 0)) return '::';
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return '::1';
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A port nothing listens on: bound, read, and closed again. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RawTcpServer {
  url: string;
  /** Requests seen so far, over all connections. */
  requests(): number;
  close(): Promise<void>;
}

/**
 * A plain TCP server on 127.0.0.1 that hands each request, once its head has
 * ended, to `onRequest` with the socket and the request's index over all
 * connections (`onAnyBytes`: at any bytes, head or not). What it answers, or
 * how it breaks the connection, is the caller's.
 */
export async function rawTcpServer(onRequest: (socket: Socket, k: number) => void, onAnyBytes = false): Promise<RawTcpServer> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (data) => {
      if (onAnyBytes) return onRequest(socket, requests++);
      buffered += data.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        buffered = buffered.slice(end + 4);
        onRequest(socket, requests++);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests: () => requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
