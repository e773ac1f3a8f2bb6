import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible service under test that misbehaves on purpose, on raw
 * sockets so that it can say what no HTTP library lets a server say (status
 * `000`, a body that never ends). Each request is answered by the behaviour
 * the picker chooses for it; endless answers stream until the client drops
 * the connection, writing only as fast as the client reads.
 */
export const HOSTILE_BEHAVIOURS = [
  /** `data:` lines forever, no blank line: an event that never ends. */
  'endless-data-lines',
  /** One line that never ends. */
  'no-newline',
  /** A 500 whose body never ends. */
  'endless-500',
  /** Complete token events forever, never `[DONE]`. */
  'endless-tokens',
  /** One event carrying a 300 KB word, then `[DONE]`. */
  'one-word',
  /** A short answer whose usage holds values that are no token counts. */
  'bad-usage',
  /** `HTTP/1.1 000`. */
  'status-000',
  /** Half a stream, then the connection is cut. */
  'cut',
  /** An answer of about a million tokens, within the byte bounds: its record is as large as a record gets. */
  'huge-answer',
  /** A well-behaved short answer. */
  'normal',
] as const;
export type HostileBehaviour = (typeof HOSTILE_BEHAVIOURS)[number];

export interface HostileService {
  url: string;
  /** Requests answered, by behaviour. */
  counts: Partial<Record<HostileBehaviour, number>>;
  close(): Promise<void>;
}

const SSE_HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n';
const event = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;
const token = (text: string): string => event({ choices: [{ index: 0, delta: { content: text } }] });
const BAD_USAGE = [1.5, -3, 1e308, '12', 2 ** 60];

/** Writes `piece` again and again, as fast as the peer reads, until it goes away. */
function writeForever(socket: net.Socket, piece: string): void {
  const buffer = Buffer.from(piece.repeat(Math.max(1, Math.floor(65536 / piece.length))));
  const pump = (): void => {
    while (!socket.destroyed && socket.write(buffer));
  };
  socket.on('drain', pump);
  pump();
}

function answer(socket: net.Socket, behaviour: HostileBehaviour, n: number): void {
  switch (behaviour) {
    case 'endless-data-lines':
      socket.write(SSE_HEAD);
      writeForever(socket, 'data: {"choices":[{"delta":{"content":"x"}}]}\n');
      return;
    case 'no-newline':
      socket.write(`${SSE_HEAD}data: `);
      writeForever(socket, 'y');
      return;
    case 'endless-500':
      socket.write('HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n');
      writeForever(socket, 'overloaded ');
      return;
    case 'endless-tokens':
      socket.write(SSE_HEAD);
      writeForever(socket, token(' hello'));
      return;
    case 'one-word':
      socket.end(`${SSE_HEAD}${token('a'.repeat(300_000))}data: [DONE]\n\n`);
      return;
    case 'bad-usage': {
      const bad = BAD_USAGE[n % BAD_USAGE.length];
      const usage = n % 2 === 0 ? { prompt_tokens: bad, completion_tokens: 2 } : { prompt_tokens: 7, completion_tokens: bad };
      socket.end(`${SSE_HEAD}${token(' hello')}${token(' hello')}${event({ choices: [], usage })}data: [DONE]\n\n`);
      return;
    }
    case 'status-000':
      socket.end('HTTP/1.1 000 Nothing\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    case 'cut':
      socket.write(`${SSE_HEAD}${token(' hel')}data: {"choices":[{"delta":{"con`);
      setTimeout(() => socket.destroy(), 20);
      return;
    case 'huge-answer':
      // two events: the second's ~1M tokens are its gaps, far more than one record keeps
      socket.end(`${SSE_HEAD}${token(' hello')}${token(' a'.repeat(1_000_000))}data: [DONE]\n\n`);
      return;
    case 'normal':
      socket.end(`${SSE_HEAD}${token(' hello')}${token(' hello')}${event({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 2 } })}data: [DONE]\n\n`);
      return;
  }
}

/** Starts the service on 127.0.0.1; `pick` chooses each request's behaviour from its number (0, 1, ...). */
export async function startHostileService(pick: (n: number) => HostileBehaviour): Promise<HostileService> {
  const counts: Partial<Record<HostileBehaviour, number>> = {};
  const sockets = new Set<net.Socket>();
  let requests = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    let answered = false;
    // one request a connection (every answer says `connection: close`): the head is enough, the body is not read
    socket.on('data', (data) => {
      if (answered) return;
      head += data.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      answered = true;
      const n = requests++;
      const behaviour = pick(n);
      counts[behaviour] = (counts[behaviour] ?? 0) + 1;
      answer(socket, behaviour, n);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
