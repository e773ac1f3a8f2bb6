import { createServer, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { RequestTemplate } from '../../src/contract';
import { STATUS_CONNECTION_FAILED, STATUS_TIMEOUT } from '../../agent/sender-core';
import { RawHttpSender } from '../../agent/raw-http/raw-sender';
import { encodeRequests } from '../../agent/raw-http/request-encoder';
import { ResponseParser } from '../../agent/raw-http/response-parser';
import { chooseSender, SENDER_ENV, senderChoiceIsNews } from '../../agent/sender-choice';

/** How the scripted server answers one request: packets written apart (a pause between them), then maybe close. */
interface Answer {
  packets: string[];
  closeAfter?: boolean;
}

interface Scripted {
  url: string;
  /** Requests as the server read them, whole. */
  requests: string[];
  connections: number;
  close(): Promise<void>;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A real server on 127.0.0.1 answering requests in order from `answers` (one request per read of a full head + body). */
async function scriptedServer(answers: Answer[]): Promise<Scripted> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let next = 0;
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, headEnd))?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        requests.push(buffered.slice(0, headEnd + 4 + length));
        buffered = buffered.slice(headEnd + 4 + length);
        const answer = answers[Math.min(next++, answers.length - 1)];
        void (async () => {
          for (const [i, packet] of answer.packets.entries()) {
            if (i > 0) await pause(5);
            if (!socket.destroyed) socket.write(packet);
          }
          if (answer.closeAfter) socket.destroy();
        })();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/path?q=1`,
    requests,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Outcome {
  status: number;
  bytesIn: number;
}

/** Sends `count` requests one after the other (closed loop, one connection) and returns their outcomes in order. */
async function sendSequentially(template: RequestTemplate, count: number): Promise<{ outcomes: Outcome[]; bytesOut: number[] }> {
  const outcomes: Outcome[] = [];
  const bytesOut: number[] = [];
  const sender = new RawHttpSender(template, 0, {
    sent: (_now, bytes) => bytesOut.push(bytes),
    response: (_now, status, _latencyUs, bytesIn) => outcomes.push({ status, bytesIn }),
  });
  sender.setMaxIdleConnections(1);
  try {
    for (let i = 0; i < count; i++) {
      await new Promise<void>((resolve) => {
        const now = performance.now();
        sender.send(now, now, () => resolve());
      });
    }
  } finally {
    await sender.close();
  }
  return { outcomes, bytesOut };
}

const template = (url: string, extra: Partial<RequestTemplate> = {}): RequestTemplate => ({ url, method: 'GET', headers: [], bodies: [], timeoutMs: 2000, ...extra });

describe('raw HTTP sender against a real server', () => {
  test('content-length bodies split across packets, on one keep-alive connection', async () => {
    const server = await scriptedServer([{ packets: ['HTTP/1.1 200 OK\r\nContent-Le', 'ngth: 10\r\n\r\n01234', '56789'] }]);
    try {
      const { outcomes } = await sendSequentially(template(server.url), 3);
      const head = 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n';
      expect(outcomes).toEqual(Array(3).fill({ status: 200, bytesIn: head.length + 10 }));
      expect(server.connections).toBe(1);
      expect(server.requests[0]).toMatch(/^GET \/path\?q=1 HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\nconnection: keep-alive\r\n\r\n$/);
    } finally {
      await server.close();
    }
  });

  test('chunked bodies with extensions and trailers', async () => {
    const body = '5;name=value\r\nhello\r\n6\r\n world\r\n0;last\r\nX-Trailer: yes\r\n\r\n';
    const server = await scriptedServer([{ packets: ['HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;na', body.slice(4, 20), body.slice(20)] }]);
    try {
      const { outcomes } = await sendSequentially(template(server.url), 2);
      const bytes = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n'.length + body.length;
      expect(outcomes).toEqual([
        { status: 201, bytesIn: bytes },
        { status: 201, bytesIn: bytes },
      ]);
      expect(server.connections).toBe(1);
    } finally {
      await server.close();
    }
  });

  test('keep-alive, then the server closes: the next request opens a new connection', async () => {
    const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    const server = await scriptedServer([{ packets: [ok] }, { packets: [ok], closeAfter: true }, { packets: [ok] }]);
    try {
      const statuses: number[] = [];
      const sender = new RawHttpSender(template(server.url), 0, { sent: () => undefined, response: (_n, status) => statuses.push(status) });
      sender.setMaxIdleConnections(1);
      for (let i = 0; i < 4; i++) {
        await new Promise<void>((resolve) => sender.send(performance.now(), performance.now(), () => resolve()));
        await pause(20); // the close reaches the idle connection
      }
      await sender.close();
      expect(statuses).toEqual([200, 200, 200, 200]);
      expect(server.connections).toBe(2);
    } finally {
      await server.close();
    }
  });

  test('an idle connection the server closed is not used again', async () => {
    const server = await scriptedServer([{ packets: ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'], closeAfter: true }]);
    try {
      const outcomes: number[] = [];
      const sender = new RawHttpSender(template(server.url), 0, { sent: () => undefined, response: (_n, status) => outcomes.push(status) });
      sender.setMaxIdleConnections(1);
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve) => sender.send(performance.now(), performance.now(), () => resolve()));
        await pause(20);
      }
      await sender.close();
      expect(outcomes).toEqual([200, 200, 200]);
      expect(server.connections).toBe(3);
    } finally {
      await server.close();
    }
  });

  test('bytes on an idle connection drop it: the next request opens another', async () => {
    const server = await scriptedServer([{ packets: ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'junk'] }]);
    try {
      const statuses: number[] = [];
      const sender = new RawHttpSender(template(server.url), 0, { sent: () => undefined, response: (_n, status) => statuses.push(status) });
      sender.setMaxIdleConnections(1);
      for (let i = 0; i < 2; i++) {
        await new Promise<void>((resolve) => sender.send(performance.now(), performance.now(), () => resolve()));
        await pause(30); // the stray bytes arrive while the connection idles
      }
      expect(sender.openConnections).toBe(0);
      await sender.close();
      expect(statuses).toEqual([200, 200]);
      expect(server.connections).toBe(2);
    } finally {
      await server.close();
    }
  });

  test('Connection: close answered: the connection is dropped and the next request opens another', async () => {
    const server = await scriptedServer([{ packets: ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'] }]);
    try {
      const { outcomes } = await sendSequentially(template(server.url), 3);
      expect(outcomes.map((o) => o.status)).toEqual([200, 200, 200]);
      expect(server.connections).toBe(3);
    } finally {
      await server.close();
    }
  });

  test('1xx interim answers (100, 103) are skipped; the final status counts', async () => {
    const server = await scriptedServer([{ packets: ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n'] }]);
    try {
      const { outcomes } = await sendSequentially(template(server.url, { method: 'POST', bodies: [Buffer.from('{"a":1}').toString('base64')] }), 2);
      expect(outcomes.map((o) => o.status)).toEqual([202, 202]);
      expect(outcomes[0].bytesIn).toBe('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n'.length);
      expect(server.requests[0]).toMatch(/^POST \/path\?q=1 HTTP\/1\.1\r\n.*content-length: 7\r\n\r\n\{"a":1\}$/s);
    } finally {
      await server.close();
    }
  });

  test('HEAD, 204 and 304 answers end with their head even when they announce a length', async () => {
    for (const [method, answer, status] of [
      ['HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n', 200],
      ['GET', 'HTTP/1.1 204 No Content\r\n\r\n', 204],
      ['GET', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n', 304],
    ] as const) {
      const server = await scriptedServer([{ packets: [answer] }]);
      try {
        const { outcomes } = await sendSequentially(template(server.url, { method }), 2);
        expect(outcomes).toEqual([
          { status, bytesIn: answer.length },
          { status, bytesIn: answer.length },
        ]);
        expect(server.connections).toBe(1);
      } finally {
        await server.close();
      }
    }
  });

  test('a malformed status line is counted as a failed connection (599)', async () => {
    const server = await scriptedServer([{ packets: ['HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n'] }]);
    try {
      const { outcomes } = await sendSequentially(template(server.url), 2);
      expect(outcomes.map((o) => o.status)).toEqual([STATUS_CONNECTION_FAILED, STATUS_CONNECTION_FAILED]);
      expect(server.connections).toBe(2);
    } finally {
      await server.close();
    }
  });

  test('the server closing mid-body is a failed request (599); a body without length ends with the connection', async () => {
    const server = await scriptedServer([{ packets: ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort'], closeAfter: true }, { packets: ['HTTP/1.1 200 OK\r\n\r\nuntil close'], closeAfter: true }]);
    try {
      const { outcomes } = await sendSequentially(template(server.url), 2);
      expect(outcomes[0].status).toBe(STATUS_CONNECTION_FAILED);
      expect(outcomes[1]).toEqual({ status: 200, bytesIn: 'HTTP/1.1 200 OK\r\n\r\nuntil close'.length });
    } finally {
      await server.close();
    }
  });

  test('no answer within the timeout is 512; a refused connection is 599', async () => {
    const server = await scriptedServer([{ packets: [] }]);
    try {
      const { outcomes } = await sendSequentially(template(server.url, { timeoutMs: 100 }), 1);
      expect(outcomes[0].status).toBe(STATUS_TIMEOUT);
    } finally {
      await server.close();
    }
    const { outcomes } = await sendSequentially(template(server.url), 1); // the port is closed now
    expect(outcomes[0].status).toBe(STATUS_CONNECTION_FAILED);
  });

  test('requests beyond the connection cap wait for a free connection, then go out in order', async () => {
    const server = await scriptedServer([{ packets: ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'] }]);
    try {
      const statuses: number[] = [];
      const sender = new RawHttpSender(template(server.url, { bodies: ['YQ==', 'Yg==', 'Yw=='], method: 'PUT' }), 0, { sent: () => undefined, response: (_n, status) => statuses.push(status) });
      sender.setMaxIdleConnections(2);
      await new Promise<void>((resolve) => {
        let left = 6;
        for (let i = 0; i < 6; i++) sender.send(performance.now(), performance.now(), () => --left === 0 && resolve());
      });
      await sender.close();
      expect(statuses).toEqual(Array(6).fill(200));
      expect(server.connections).toBe(2);
      expect(server.requests.map((r) => r.slice(-1)).sort()).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
    } finally {
      await server.close();
    }
  });
});

describe('response parser', () => {
  const parse = (packets: string[], noBody = false): { completes: [number, number, boolean][]; errors: string[] } => {
    const completes: [number, number, boolean][] = [];
    const errors: string[] = [];
    const parser = new ResponseParser({ onComplete: (s, b, c) => completes.push([s, b, c]), onError: (r) => errors.push(r) });
    parser.expect(noBody);
    for (const p of packets) parser.feed(Buffer.from(p, 'latin1'));
    return { completes, errors };
  };

  test('every split of a chunked answer gives the same result', () => {
    const whole = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na;x=1\r\n0123456789\r\n0\r\nT: 1\r\n\r\n';
    for (let cut = 1; cut < whole.length; cut++) {
      expect(parse([whole.slice(0, cut), whole.slice(cut)])).toEqual({ completes: [[200, whole.length, false]], errors: [] });
    }
  });

  test('every split of a head with a length gives the same result', () => {
    const whole = 'HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello';
    for (let cut = 1; cut < whole.length; cut++) {
      expect(parse([whole.slice(0, cut), whole.slice(cut)])).toEqual({ completes: [[200, whole.length, false]], errors: [] });
    }
  });

  test('header names and tokens in any case, values trimmed; a second, different length is an error', () => {
    const upper = 'HTTP/1.1 200 OK\r\nCONTENT-LENGTH:  2 \r\n\r\nok';
    expect(parse([upper]).completes).toEqual([[200, upper.length, false]]);
    expect(parse(['HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\n0\r\n\r\n']).completes[0][0]).toBe(200);
    expect(parse(['HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n']).completes[0][2]).toBe(true);
    expect(parse(['HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n']).completes[0][2]).toBe(false);
    expect(parse(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok']).completes).toHaveLength(1);
    expect(parse(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok']).errors[0]).toMatch(/invalid content-length: "3"/);
    expect(parse(['HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n']).errors[0]).toMatch(/invalid content-length/);
    expect(parse(['HTTP/1.1 20 OK\r\n\r\n']).errors).toEqual(['malformed status line: "HTTP/1.1 20 OK"']);
    expect(parse(['HTTP/1.1 200OK\r\n\r\n']).errors[0]).toMatch(/malformed status line/);
  });

  test('only the window of a shared read buffer is read: stale bytes after it are not taken for the end of a head or line', () => {
    const completes: [number, number, boolean][] = [];
    const errors: string[] = [];
    const parser = new ResponseParser({ onComplete: (s, b, c) => completes.push([s, b, c]), onError: (r) => errors.push(r) });
    const shared = Buffer.alloc(256, 'x');
    // an earlier read left a whole head behind the window
    shared.write('HTTP/1.1 500 No\r\nContent-Length: 0\r\n\r\n', 100, 'latin1');
    const first = 'HTTP/1.1 200 OK\r\nContent-Len';
    shared.write(first, 0, 'latin1');
    parser.expect(false);
    parser.feed(shared, 0, first.length);
    expect(completes).toEqual([]);
    const second = 'gth: 3\r\n\r\nabc';
    shared.write(second, 0, 'latin1');
    parser.feed(shared, 0, second.length);
    expect(completes).toEqual([[200, first.length + second.length, false]]);
    // a chunk-size line whose LF lies only in the stale part waits for the next read
    parser.expect(false);
    const chunkedHead = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2';
    shared.write(chunkedHead, 10, 'latin1');
    shared.write('\n', 10 + chunkedHead.length + 3, 'latin1');
    parser.feed(shared, 10, 10 + chunkedHead.length);
    expect(completes).toHaveLength(1);
    const rest = '\r\nok\r\n0\r\n\r\n';
    shared.write(rest, 0, 'latin1');
    parser.feed(shared, 0, rest.length);
    expect(errors).toEqual([]);
    expect(completes[1]).toEqual([200, chunkedHead.length + rest.length, false]);
  });

  test('a status below 100 (000, 099) fails the response at once, never taken as interim', () => {
    for (const code of ['000', '007', '099']) {
      expect(parse([`HTTP/1.1 ${code} X\r\nContent-Length: 0\r\n\r\n`])).toEqual({ completes: [], errors: [`invalid status code ${code}`] });
    }
    expect(parse(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 599 X\r\nContent-Length: 0\r\n\r\n']).completes).toEqual([[599, 62, false]]);
  });

  test('HTTP/1.0 closes unless keep-alive is said; bytes with no request in flight are an error', () => {
    expect(parse(['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n']).completes[0][2]).toBe(true);
    expect(parse(['HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n']).completes[0][2]).toBe(false);
    expect(parse(['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nextra']).errors).toEqual(['bytes received with no request in flight']);
    expect(parse(['HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n']).errors[0]).toMatch(/invalid content-length/);
    expect(parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n']).errors[0]).toMatch(/invalid chunk size/);
  });
});

describe('sender choice', () => {
  test('raw for plain http:// by default or when asked; undici otherwise, with the reason', () => {
    const t = template('http://127.0.0.1:1/');
    expect(chooseSender(t, {})).toEqual({ kind: 'raw', reason: 'the default' });
    const https = chooseSender(template('https://127.0.0.1:1/'), {});
    expect(https).toEqual({ kind: 'undici', reason: 'the default where the raw sender cannot send: https:// targets need TLS' });
    expect(senderChoiceIsNews(https)).toBe(false);
    expect(senderChoiceIsNews(chooseSender(t, { [SENDER_ENV]: 'undici' }))).toBe(true);
    expect(chooseSender(t, { [SENDER_ENV]: 'raw' })).toEqual({ kind: 'raw', reason: `${SENDER_ENV}=raw` });
    expect(chooseSender(t, { [SENDER_ENV]: 'undici' })).toEqual({ kind: 'undici', reason: `${SENDER_ENV}=undici` });
    expect(chooseSender(template('https://127.0.0.1:1/'), { [SENDER_ENV]: 'raw' })).toEqual({ kind: 'undici', reason: `raw sender asked by ${SENDER_ENV}=raw, but https:// targets need TLS` });
    expect(chooseSender(template('http://127.0.0.1:1/', { headers: [['x', 'a\r\nb']] }), { [SENDER_ENV]: 'raw' }).kind).toBe('undici');
  });

  test('the encoded request drops the headers the client sets and keeps the user headers', () => {
    const encoded = encodeRequests(template('http://127.0.0.1:8080/p', { headers: [['Authorization', 'tok'], ['Content-Length', '5'], ['Host', 'x']], bodies: ['aGk='], method: 'post' }));
    expect(encoded.requests[0].toString()).toBe('POST /p HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nconnection: keep-alive\r\nAuthorization: tok\r\ncontent-length: 2\r\n\r\nhi');
    expect(encoded.port).toBe(8080);
  });
});
