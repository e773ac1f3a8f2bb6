import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import express, { Request, Response } from 'express';
import { DATE_HEADER, isNonce, NONCE_HEADER, parseAuthorization, signRequest, signaturesEqual } from '../../src/contract';

/**
 * A tiny stand-in for the controller, for the client's unit tests only (the
 * real controller is exercised by the integration tests): checks every
 * request's signature with the contract's functions over the raw bytes
 * received, records it, and answers with canned PascalCase responses.
 */

export const STUB_ID = 'AKID-test';
export const STUB_SECRET = 'secret-test';

export interface RecordedRequest {
  method: string;
  path: string;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** A JSON answer, or with `type` (a content type) the string `body` as it is: CSV downloads. */
export type StubReply = { status?: number; body: unknown; type?: string };
export type StubHandler = (req: RecordedRequest, count: number) => StubReply;

export interface StubController {
  url: string;
  requests: RecordedRequest[];
  /** `METHOD /path` -> handler; the count is how many times this route was hit before. */
  on(route: string, handler: StubHandler | StubReply): void;
  close(): Promise<void>;
}

let requestCounter = 0;
export function requestId(): string {
  requestCounter++;
  return `7F953F8E-8897-5785-808A-${String(requestCounter).padStart(12, '0')}`;
}

export async function startStubController(): Promise<StubController> {
  const routes = new Map<string, StubHandler>();
  const hits = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  const app = express();
  app.use(express.raw({ type: () => true, limit: '10mb' }));
  app.get('/healthz', (_req: Request, res: Response) => {
    res.json({ Status: 'ok' });
  });
  app.use((req: Request, res: Response) => {
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const auth = parseAuthorization(req.header('authorization'));
    const date = req.header(DATE_HEADER) ?? '';
    const nonce = req.header(NONCE_HEADER);
    const expected = signRequest(STUB_SECRET, req.method, req.originalUrl, date, nonce ?? '', raw);
    if (!auth || auth.accessId !== STUB_ID || !signaturesEqual(auth.signature, expected) || Number.isNaN(Date.parse(date)) || !isNonce(nonce)) {
      res.status(401).json({ RequestId: requestId(), Code: 'Unauthorized', Message: 'bad signature' });
      return;
    }
    const recorded: RecordedRequest = { method: req.method, path: req.originalUrl, body: raw.toString('utf8'), headers: req.headers };
    requests.push(recorded);
    const key = `${req.method} ${decodeURIComponent(req.path)}`;
    const handler = routes.get(key);
    if (!handler) {
      res.status(404).json({ RequestId: requestId(), Code: 'NotFound', Message: `no stub for ${key}` });
      return;
    }
    const n = hits.get(key) ?? 0;
    hits.set(key, n + 1);
    const reply = handler(recorded, n);
    if (reply.type !== undefined) res.status(reply.status ?? 200).type(reply.type).send(String(reply.body));
    else res.status(reply.status ?? 200).json(reply.body);
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on(route, handler) {
      routes.set(route, typeof handler === 'function' ? handler : () => handler);
      hits.set(route, 0);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * One stub controller for a describe block: started before its tests, closed
 * after them, its request log cleared before each. Read it through the
 * returned function (it exists once the block's beforeAll has run).
 */
export function useStubController(): () => StubController {
  let stub: StubController | undefined;
  beforeAll(async () => {
    stub = await startStubController();
  });
  afterAll(async () => {
    await stub?.close();
  });
  beforeEach(() => {
    if (stub) stub.requests.length = 0;
  });
  return () => {
    if (!stub) throw new Error('the stub controller is used before its beforeAll ran');
    return stub;
  };
}
