import { createHmac } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Alibaba Cloud OSS on 127.0.0.1 that checks what it receives:
 * every request must carry a valid OSS (v1) signature, in the Authorization
 * header or, for signed URLs, in the query. ali-oss talks to an IP endpoint
 * path-style (/bucket/key), so no DNS is needed.
 */
export interface FakeOss {
  endpoint: string;
  objects: Map<string, { body: Buffer; contentType: string }>;
  /** Requests refused for a bad signature. */
  rejected: number;
  /** Every accepted request, for assertions. */
  log: { method: string; path: string; signedBy: 'header' | 'query' }[];
  close(): Promise<void>;
}

function sign(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign).digest('base64');
}

function canonicalHeaders(headers: http.IncomingHttpHeaders): string {
  return Object.keys(headers)
    .filter((h) => h.startsWith('x-oss-'))
    .sort()
    .map((h) => `${h}:${String(headers[h]).trim()}\n`)
    .join('');
}

function xmlError(res: http.ServerResponse, status: number, code: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><RequestId>FAKE</RequestId></Error>`);
}

/**
 * `buckets`: the buckets it serves. A request names its bucket in the path
 * (path style), in the Host's first label (virtual-hosted), or, for a CNAME
 * endpoint, not at all: then it is the first bucket.
 */
export async function startFakeOss(accessKeyId: string, secret: string, buckets: string[]): Promise<FakeOss> {
  const objects = new Map<string, { body: Buffer; contentType: string }>();
  const state = { rejected: 0 };
  const log: FakeOss['log'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = decodeURIComponent(url.pathname);
      const hostBucket = String(req.headers.host ?? '').split('.')[0];
      const resource = buckets.some((b) => path.startsWith(`/${b}/`)) ? path : buckets.includes(hostBucket) ? `/${hostBucket}${path}` : `/${buckets[0]}${path}`;
      const method = req.method ?? 'GET';
      let signedBy: 'header' | 'query';
      const auth = req.headers.authorization;
      if (auth) {
        const expected = `OSS ${accessKeyId}:${sign(secret, `${method}\n${req.headers['content-md5'] ?? ''}\n${req.headers['content-type'] ?? ''}\n${req.headers['x-oss-date'] ?? req.headers.date ?? ''}\n${canonicalHeaders(req.headers)}${resource}`)}`;
        if (auth !== expected) {
          state.rejected++;
          return xmlError(res, 403, 'SignatureDoesNotMatch');
        }
        signedBy = 'header';
      } else {
        const expires = url.searchParams.get('Expires') ?? '';
        const ok = url.searchParams.get('OSSAccessKeyId') === accessKeyId && url.searchParams.get('Signature') === sign(secret, `${method}\n\n\n${expires}\n${resource}`) && Number(expires) * 1000 > Date.now();
        if (!ok) {
          state.rejected++;
          return xmlError(res, 403, 'AccessDenied');
        }
        signedBy = 'query';
      }
      log.push({ method, path: resource, signedBy });
      if (method === 'PUT') {
        objects.set(resource, { body: Buffer.concat(chunks), contentType: String(req.headers['content-type'] ?? '') });
        return res.writeHead(200, { etag: '"fake"' }).end();
      }
      if (method === 'DELETE') {
        objects.delete(resource);
        return res.writeHead(204).end();
      }
      const object = objects.get(resource);
      if (!object) return xmlError(res, 404, 'NoSuchKey');
      res.writeHead(200, { 'content-type': object.contentType || 'application/octet-stream', 'content-length': object.body.length }).end(method === 'HEAD' ? undefined : object.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    objects,
    get rejected() {
      return state.rejected;
    },
    log,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
