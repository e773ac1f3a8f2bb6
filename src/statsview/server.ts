import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { isOwnOrigin } from '../contract';
import { BROWSER_WS_PATH, BrowserFrame, ECHARTS_PATH, PAGE_PATH, SCRIPT_PATH } from './protocol';
import { pageHtml, pageScript } from './page';

/**
 * The local page server: the page, its script, ECharts from the installed
 * package, and a websocket per browser. Bound to 127.0.0.1 on a free port;
 * nothing it serves refers to another host (the CSP header enforces it).
 */

export interface PageServerOptions {
  /** What a browser gets first when it connects (the history, the link state). */
  greeting: () => BrowserFrame[];
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // ECharts sets inline styles on the elements it creates.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export class PageServer {
  private readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private echarts?: Buffer;
  private port = 0;

  constructor(private readonly options: PageServerOptions) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      socket.on('error', () => undefined);
      // the Host check stops DNS rebinding; the Origin check stops a page of another site that connects to 127.0.0.1 itself
      if (!isOwnOrigin(req.headers.origin, req.headers.host)) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (path(req) !== BROWSER_WS_PATH || !this.localHost(req)) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', () => undefined);
        for (const frame of this.options.greeting()) ws.send(JSON.stringify(frame));
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}${PAGE_PATH}`;
  }

  /** Sends a frame to every open page. */
  broadcast(frame: BrowserFrame): void {
    const text = JSON.stringify(frame);
    for (const ws of this.wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(text);
  }

  get browsers(): number {
    return this.wss.clients.size;
  }

  async close(): Promise<void> {
    // A normal close so pages say "closed" rather than "lost".
    for (const ws of this.wss.clients) ws.close(1001, 'statsview closed');
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Give the close frames a moment, then cut whatever is left (keep-alive sockets).
      setTimeout(() => {
        for (const ws of this.wss.clients) ws.terminate();
        this.server.closeAllConnections();
      }, 200).unref();
    });
  }

  /** Host header check: a page on another site cannot reach us through DNS rebinding. */
  private localHost(req: http.IncomingMessage): boolean {
    const host = req.headers.host ?? '';
    return host === `127.0.0.1:${this.port}` || host === `localhost:${this.port}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const p = path(req);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !this.localHost(req)) return send(res, 404, 'text/plain', 'not found');
    if (p === PAGE_PATH || p === `${PAGE_PATH}/`) return send(res, 200, 'text/html; charset=utf-8', pageHtml());
    if (p === SCRIPT_PATH) return send(res, 200, 'text/javascript; charset=utf-8', pageScript());
    if (p === ECHARTS_PATH) {
      this.echarts ??= fs.readFileSync(require.resolve('echarts/dist/echarts.min.js'));
      return send(res, 200, 'text/javascript; charset=utf-8', this.echarts);
    }
    send(res, 404, 'text/plain', 'not found');
  }
}

function path(req: http.IncomingMessage): string {
  return (req.url ?? '').split('?')[0];
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}
