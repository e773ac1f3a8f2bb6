import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { StatsPoint, StatsStreamFrame } from '../../src/contract';
import { TaskManager } from '../tasks/manager';
import { detailView, statsView } from './views';

/**
 * `GET .../stats/stream`: a websocket that sends the round's history on
 * connect, then one frame per finalized second and one per task change.
 * Authentication happens on the upgrade request, like any API call.
 */
export class StatsStreamServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly subscribers = new Map<string, Set<WebSocket>>();

  constructor(private readonly manager: TaskManager) {
    manager.on('second', (taskName: string, point: StatsPoint) => this.broadcast(taskName, () => ({ Type: 'second', Task: detailView(manager, taskName), Point: point })));
    manager.on('task', (taskName: string) => {
      if (!manager.has(taskName)) {
        for (const socket of this.subscribers.get(taskName) ?? []) socket.close(1000, 'task deleted');
        return;
      }
      this.broadcast(taskName, () => ({ Type: 'task', Task: detailView(manager, taskName) }));
    });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, taskName: string): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      let set = this.subscribers.get(taskName);
      if (!set) this.subscribers.set(taskName, (set = new Set()));
      set.add(ws);
      ws.on('close', () => set?.delete(ws));
      ws.on('error', () => undefined);
      const stats = statsView(this.manager, taskName, '');
      const history: StatsStreamFrame = { Type: 'history', Task: detailView(this.manager, taskName), Series: stats.Series };
      ws.send(JSON.stringify(history));
    });
  }

  private broadcast(taskName: string, frame: () => StatsStreamFrame): void {
    const set = this.subscribers.get(taskName);
    if (!set || set.size === 0) return;
    const text = JSON.stringify(frame());
    for (const socket of set) if (socket.readyState === WebSocket.OPEN) socket.send(text);
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}
