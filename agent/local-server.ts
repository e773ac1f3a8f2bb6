import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server inside the agent that answers every request with one fixed answer. */
export interface LocalServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 that reads each request whole and answers
 * `body` as `contentType`: the agent warms its own send path on it before
 * `ready` (the service under test sees none of that).
 */
export async function startLocalServer(body: string, contentType: string): Promise<LocalServer> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
    });
  });
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  } catch (err) {
    await close();
    throw err;
  }
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close };
}
