import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Pool } from 'undici';
import { Preconnector } from '../../agent/preconnect';
import { waitFor } from '../helpers/processes';
import { closedPort } from '../helpers/sockets';

/*
 * Connections opened before a schedule starts (open loop, LLM rate mode): a pool takes
 * them before it opens any of its own, skips one the service closed while it
 * waited, and a service that is down leaves nothing open and nothing thrown.
 */

describe('Preconnector', () => {
  let server: http.Server;
  let origin: string;
  const connections: Socket[] = [];
  /** Connections the server had accepted when each request arrived. */
  const acceptedAtRequest: number[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      acceptedAtRequest.push(connections.length);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    server.on('connection', (socket: Socket) => connections.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    connections.length = 0;
    acceptedAtRequest.length = 0;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const accepted = (count: number): Promise<boolean> => waitFor(`${count} connections accepted`, () => connections.length >= count || undefined, 5000, 5);

  const sendAll = (pool: Pool, count: number): Promise<string[]> =>
    Promise.all(Array.from({ length: count }, () => pool.request({ path: '/', method: 'POST', body: 'x' }).then((r) => r.body.text())));

  test('the pool sends on the opened connections first, then opens its own', async () => {
    const preconnector = new Preconnector(new URL(origin), 5000);
    await preconnector.fill(3);
    expect(preconnector.size).toBe(3);
    await accepted(3);
    const pool = new Pool(origin, { connections: 4, connect: preconnector.connect });
    try {
      // answered at once (a socket handed over in the same tick once left its request unsent until the server's timeout)
      expect(await sendAll(pool, 4)).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(preconnector.size).toBe(0);
      // four connections in all: the three opened ahead and one the pool opened for the fourth request
      expect(connections).toHaveLength(4);
    } finally {
      await pool.destroy();
      preconnector.close();
    }
  });

  test('a connection the service closed while it waited is skipped, not used', async () => {
    const preconnector = new Preconnector(new URL(origin), 5000);
    await preconnector.fill(2);
    await accepted(2);
    const [first, second] = connections;
    const closedHere = (socket: Socket): Promise<unknown> => new Promise((resolve) => socket.once('close', resolve));
    first.destroy();
    second.destroy();
    await Promise.all([closedHere(first), closedHere(second)]);
    // the agent's ends see the close after the server's
    await new Promise((resolve) => setTimeout(resolve, 50));
    const pool = new Pool(origin, { connections: 1, connect: preconnector.connect });
    try {
      expect(await sendAll(pool, 1)).toEqual(['ok']);
      expect(preconnector.size).toBe(0);
      expect(connections).toHaveLength(3);
    } finally {
      await pool.destroy();
      preconnector.close();
    }
  });

  test('a service that is down: nothing opened, nothing thrown', async () => {
    const preconnector = new Preconnector(new URL(`http://127.0.0.1:${await closedPort()}`), 5000);
    expect(await preconnector.fill(4)).toBe(0);
    expect(preconnector.size).toBe(0);
    preconnector.close();
  });

  test('what the pool never took is closed', async () => {
    const preconnector = new Preconnector(new URL(origin), 5000);
    await preconnector.fill(2);
    await accepted(2);
    const closed = connections.map((socket) => new Promise((resolve) => socket.once('close', resolve)));
    preconnector.close();
    await Promise.all(closed);
    expect(preconnector.size).toBe(0);
  });
});
