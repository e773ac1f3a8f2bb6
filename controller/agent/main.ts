import { AGENT_TOKEN_ENV, CLOSE_AGENT_CONNECTED, CLOSE_PROTOCOL, CLOSE_UNAUTHORIZED } from '../../src/contract';
import { AgentArgs, parseAgentArgs, UsageError, USAGE } from './args';
import { ControllerConnection } from './connection';
import { AgentRunner } from './runner';
import { startTestHooks } from './test-hooks';

/**
 * eascmd-agent: one load-generating replica. It connects to the controller's
 * agents websocket, says hello with its secret (from $EAS_BENCH_AGENT_TOKEN, or --token), runs what it is
 * assigned and exits when the socket closes (code 0; 1 when the controller
 * refused it or could not be reached; 2 on a usage error).
 * This module is the process entry point (bin/eascmd-agent requires it): it runs on load.
 */

const REFUSED_CLOSE_CODES = new Set([CLOSE_PROTOCOL, CLOSE_UNAUTHORIZED, CLOSE_AGENT_CONNECTED]);

function run(args: AgentArgs): void {
  const log = (level: 'info' | 'warn' | 'error', message: string): void => {
    process.stderr.write(`[agent ${args.agentId}] ${level}: ${message}\n`);
  };
  let exiting = false;
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    // Never hang on the way out: connections that do not close in time are dropped with the process.
    setTimeout(() => process.exit(code), 1000).unref();
    runner.shutdown().finally(() => process.exit(code));
  };

  const runner = new AgentRunner((message) => connection.send(message), (level, message) => {
    log(level, message);
    connection.send({ type: 'log', level, message });
  });

  const stopAndLeave = (reason: string): void => {
    void runner.stop(reason).then(() => connection.close(1000, 'done'));
  };

  const connection: ControllerConnection = new ControllerConnection(
    { url: args.controllerUrl, token: args.token, agentId: args.agentId },
    {
      onMessage: (message) => {
        switch (message.type) {
          case 'assign':
            runner.assign(message.assignment);
            break;
          case 'load':
            runner.applyLoad(message.load, message.requestLimit, message.scheduleEndMs);
            break;
          case 'start':
            runner.start();
            break;
          case 'stop':
            stopAndLeave(message.reason);
            break;
        }
      },
      onInvalid: (reason) => {
        log('warn', `ignored a controller message: ${reason}`);
        connection.send({ type: 'log', level: 'warn', message: `ignored a controller message: ${reason}` });
      },
      onClose: (code, reason, opened) => {
        if (!opened) log('error', `cannot reach the controller at ${args.controllerUrl}: ${reason}`);
        else if (REFUSED_CLOSE_CODES.has(code)) log('error', `refused by the controller (${code} ${reason})`);
        exit(!opened || REFUSED_CLOSE_CODES.has(code) ? 1 : 0);
      },
    },
  );

  if (args.exitOnStdinEof) {
    if (process.stdin.isTTY) {
      log('warn', '--exit-on-stdin-eof ignored: stdin is a terminal');
    } else {
      process.stdin.on('end', () => exit(0));
      process.stdin.on('error', () => exit(0));
      process.stdin.resume(); // data is discarded; only EOF matters
    }
  }

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      exit(0); // second signal: leave now
      return;
    }
    signalled = true;
    if (runner.status === 'idle' || runner.status === 'stopped') {
      connection.close(1000, signal);
      exit(0);
      return;
    }
    stopAndLeave(`signal ${signal}`);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function main(): void {
  let args: AgentArgs | 'help';
  try {
    args = parseAgentArgs(process.argv.slice(2), process.env);
    // read once; nothing the agent might start should inherit it
    delete process.env[AGENT_TOKEN_ENV];
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`eascmd-agent: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  startTestHooks(process.env);
  run(args);
}

main();
