import { AGENT_TOKEN_ENV } from '../src/contract';
import { AgentArgs, isPoolArgs, parseAgentArgs, UsageError, USAGE } from './args';
import { AgentLog } from './lifecycle';
import { readPoolKey } from './pool-credentials';
import { PoolMember } from './pool-member';
import { SeatSession } from './seat';
import { startTestHooks } from './test-hooks';

/**
 * eascmd-agent: one load-generating replica. With a token (from
 * $EAS_BENCH_AGENT_TOKEN, or --token) it takes one seat: it connects to the
 * controller's agents websocket, runs what it is assigned and exits when the
 * socket closes (code 0; 1 when the controller refused it or could not be
 * reached; 2 on a usage error). With --pool-credentials it joins the
 * controller's pool and serves seat after seat until it is signalled.
 * This module is the process entry point (bin/eascmd-agent requires it): it runs on load.
 */

/** What a first signal ends gracefully: one seat, or a pool agent's whole life. */
interface Life {
  /** Stops the load (if any) with a last frame and `done`, then exits. */
  stop(reason: string): void;
}

function run(args: AgentArgs): void {
  const log: AgentLog = (level, message) => {
    process.stderr.write(`[agent ${args.agentId}] ${level}: ${message}\n`);
  };
  let exiting = false;
  let cleanup: () => Promise<void> = () => Promise.resolve();
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    // Never hang on the way out: connections that do not close in time are dropped with the process.
    setTimeout(() => process.exit(code), 1000).unref();
    void cleanup().finally(() => process.exit(code));
  };

  let life: Life;
  if (isPoolArgs(args)) {
    const member = new PoolMember({ controllerUrl: args.controllerUrl, agentId: args.agentId, key: readPoolKey(args.poolCredentials), log, onRefused: () => exit(1) });
    life = { stop: (reason) => void member.stop(reason).then(() => exit(0)) };
    member.start();
  } else {
    const seat = new SeatSession({ controllerUrl: args.controllerUrl, token: args.token, agentId: args.agentId }, log, exit);
    cleanup = () => seat.shutdown();
    life = {
      stop: (reason) => {
        if (seat.working) return seat.stop(reason);
        seat.leave(reason);
        exit(0);
      },
    };
  }

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
    life.stop(`signal ${signal}`);
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
    if (args !== 'help') {
      startTestHooks(process.env);
      run(args);
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`eascmd-agent: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args === 'help') process.stdout.write(`${USAGE}\n`);
}

main();
