import { WebSocket } from 'ws';
import { AgentLauncher, AgentLaunchSpec, LaunchedAgent } from '../../controller/fleet/launcher';
import { ControllerToAgent, LoadShape, PROTOCOL_VERSION } from '../../src/contract';

/**
 * A launcher whose agents speak the protocol and send no load: each one
 * connects with its seat's secret, says ready to its assignment, `done` to a
 * stop, and keeps every load it was told (the assignment's, then each
 * `load` message's), in order. What the controller passes on to an agent,
 * seen from the agent's side of the socket.
 */
export class ListeningLauncher implements AgentLauncher {
  readonly capacity = Number.POSITIVE_INFINITY;
  /** Every load told to any of its agents, in order. */
  readonly loads: LoadShape[] = [];
  private readonly sockets = new Set<WebSocket>();

  launch(spec: AgentLaunchSpec): LaunchedAgent {
    const ws = new WebSocket(spec.controllerWsUrl);
    this.sockets.add(ws);
    let exited = false;
    const exit = (): void => {
      if (exited) return;
      exited = true;
      this.sockets.delete(ws);
      spec.onExit(0, null);
    };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', agentId: spec.agentId, token: spec.token, pid: process.pid, host: 'listening', version: PROTOCOL_VERSION })));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as ControllerToAgent;
      if (message.type === 'assign') {
        this.loads.push(message.assignment.load);
        ws.send(JSON.stringify({ type: 'ready' }));
      } else if (message.type === 'load') {
        this.loads.push(message.load);
      } else if (message.type === 'stop') {
        ws.send(JSON.stringify({ type: 'done', reason: 'stopped', totalSent: 0 }));
        ws.close();
      }
    });
    ws.on('close', exit);
    ws.on('error', exit);
    return { agentId: spec.agentId, kill: () => ws.close() };
  }

  async shutdown(): Promise<void> {
    for (const ws of this.sockets) ws.close();
  }
}
