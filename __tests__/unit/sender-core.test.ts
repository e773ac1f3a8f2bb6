import type { RequestTemplate } from '../../src/contract';
import { HttpSender } from '../../agent/undici-sender';
import { RawHttpSender } from '../../agent/raw-http/raw-sender';
import { ResultSink, STATUS_TIMEOUT } from '../../agent/sender-core';
import { rawTcpServer, RawTcpServer } from '../helpers/sockets';

/** A real server on 127.0.0.1: answers request k (counted over all connections) after `delayMs(k)` ms, 200 with "ok". */
function delayingServer(delayMs: (k: number) => number): Promise<RawTcpServer> {
  return rawTcpServer((socket, k) => {
    const answer = (): void => {
      if (!socket.destroyed) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    };
    const wait = delayMs(k);
    if (wait > 0) setTimeout(answer, wait);
    else answer();
  });
}

/** Each sender, counting the request objects it makes (the rest is the sender as the agent uses it). */
class CountingRaw extends RawHttpSender {
  created = 0;
  protected override createRequest(): ReturnType<RawHttpSender['createRequest']> {
    this.created++;
    return super.createRequest();
  }
}
class CountingUndici extends HttpSender {
  created = 0;
  protected override createRequest(): ReturnType<HttpSender['createRequest']> {
    this.created++;
    return super.createRequest();
  }
}

const senders = {
  raw: (template: RequestTemplate, sink: ResultSink) => new CountingRaw(template, 0, sink),
  undici: (template: RequestTemplate, sink: ResultSink) => new CountingUndici(template, 0, sink),
};
const template = (url: string, timeoutMs = 2000): RequestTemplate => ({ url, method: 'GET', headers: [], bodies: [], timeoutMs });
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(Object.keys(senders) as (keyof typeof senders)[])('shared sender core (%s)', (kind) => {
  test('request objects are used again once their requests are over: a closed loop of 4 makes no more than 4', async () => {
    const server = await delayingServer(() => 0);
    const statuses: number[] = [];
    const sender = senders[kind](template(server.url), { sent: () => undefined, response: (_n, status) => statuses.push(status) });
    sender.setMaxIdleConnections(4);
    try {
      const perWorker = [0, 0, 0, 0];
      await Promise.all(
        perWorker.map(
          (_, worker) =>
            new Promise<void>((resolve) => {
              const next = (): void => {
                if (perWorker[worker] === 50) {
                  resolve();
                  return;
                }
                const now = performance.now();
                sender.send(now, now, (status) => {
                  expect(status).toBe(200);
                  perWorker[worker]++;
                  next();
                });
              };
              next();
            }),
        ),
      );
      expect(perWorker).toEqual([50, 50, 50, 50]);
      expect(statuses).toEqual(Array(200).fill(200));
      expect(server.requests()).toBe(200);
      expect(sender.created).toBeLessThanOrEqual(4);
      expect(sender.inFlight).toBe(0);
    } finally {
      await sender.close();
      await server.close();
    }
  });

  test('requests that time out on the wire or in the FIFO each get one outcome, and later requests reusing their objects get theirs', async () => {
    // for the first 250 ms every request is answered after its timeout: the first holds the one connection the cap
    // allows and the others wait behind it (or, once it timed out, get a new connection and time out there)
    const slowUntilMs = performance.now() + 250;
    const server = await delayingServer(() => (performance.now() < slowUntilMs ? 300 : 0));
    const recorded: number[] = [];
    const sender = senders[kind](template(server.url, 100), { sent: () => undefined, response: (_n, status) => recorded.push(status) });
    sender.setMaxIdleConnections(1);
    try {
      const done: number[][] = [[], [], [], [], []];
      for (let i = 0; i < 5; i++) {
        const now = performance.now();
        sender.send(now, now, (status) => done[i].push(status));
      }
      await pause(400); // every deadline passes; the late answer comes after its request timed out
      expect(done).toEqual(Array(5).fill([STATUS_TIMEOUT]));
      expect(recorded).toEqual(Array(5).fill(STATUS_TIMEOUT));
      expect(sender.inFlight).toBe(0);
      const later: number[] = [];
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve) => {
          const now = performance.now();
          sender.send(now, now, (status) => {
            later.push(status);
            resolve();
          });
        });
      }
      await pause(50); // nothing more comes for the timed-out ones
      expect(later).toEqual(Array(5).fill(200));
      expect(recorded).toEqual([...Array(5).fill(STATUS_TIMEOUT), ...Array(5).fill(200)]);
      expect(done).toEqual(Array(5).fill([STATUS_TIMEOUT]));
      expect(sender.created).toBeLessThanOrEqual(5);
    } finally {
      await sender.close();
      await server.close();
    }
  });

  test('cancelAll records nothing, and the objects of cancelled requests serve the next ones', async () => {
    const server = await delayingServer(() => 200);
    const recorded: number[] = [];
    const sender = senders[kind](template(server.url), { sent: () => undefined, response: (_n, status) => recorded.push(status) });
    sender.setMaxIdleConnections(2);
    try {
      const done: number[] = [];
      for (let i = 0; i < 4; i++) sender.send(performance.now(), performance.now(), (status) => done.push(status));
      await pause(20);
      sender.cancelAll();
      expect(sender.inFlight).toBe(0);
      await pause(300);
      expect(recorded).toEqual([]);
      expect(done).toEqual([]);
      const status = await new Promise<number>((resolve) => sender.send(performance.now(), performance.now(), resolve));
      expect(status).toBe(200);
      expect(recorded).toEqual([200]);
      expect(sender.created).toBeLessThanOrEqual(4);
    } finally {
      await sender.close();
      await server.close();
    }
  });
});
