import { Argv } from 'yargs';
import { tildify } from '../api/config';
import { LocalController, inspectLocalController, localEndpoint, pidToStop, runningTasks, stopProcess } from '../api/local-controller';
import { renderKeyValueTable } from '../output/table';
import { CommandSpec } from './command';
import { CliContext, GlobalArgs } from './context';
import { followFile, lastLines, readLog } from './log-file';

/**
 * `eascmd controller status|stop|logs`: the local controller that eascmd
 * started in the background (SPEC 2.1) can be seen and stopped. They act on
 * the controller of `~/.eas/controller`, at `--endpoint`, or the config's
 * endpoint when the config holds that controller's key, or 127.0.0.1:8020.
 */

/** How long `controller stop` waits for running rounds to end and write their reports. */
const STOP_TIMEOUT_MS = 60_000;

async function inspect(ctx: CliContext, args: GlobalArgs): Promise<LocalController> {
  const home = ctx.home;
  return inspectLocalController(home, localEndpoint(home, ctx.configPath, args.endpoint));
}

function notRunning(ctx: CliContext, local: LocalController): string {
  return `The local controller is not running (nothing answers at ${local.endpoint}; data dir ${tildify(local.paths.dataDir, ctx.home)}); any eascmd bench command starts it`;
}

export const controllerStatusCommand: CommandSpec<GlobalArgs> = {
  command: 'status',
  describe: 'Show the local controller: URL, pid, data dir, version, running tasks',
  builder: (y) => y,
  run: async (args, ctx) => {
    const local = await inspect(ctx, args);
    const health = local.health;
    if (!health) {
      if (ctx.json) ctx.out.json({ Running: false, Url: local.endpoint, DataDir: local.paths.dataDir });
      else ctx.out.ok(notRunning(ctx, local));
      return;
    }
    // its tasks need its key; a controller of someone else's still shows what /healthz says
    let tasks: string;
    let names: { TaskName: string; Status: string }[] = [];
    try {
      names = (await runningTasks(local)).map((t) => ({ TaskName: t.TaskName, Status: t.Status }));
      tasks = names.length > 0 ? names.map((t) => `${t.TaskName} (${t.Status})`).join(', ') : 'none';
    } catch (err) {
      tasks = `unknown (${(err as Error).message})`;
    }
    // pid and version only as the controller proved them to this data dir's key
    const info = local.info;
    const started = info !== undefined && local.pidFile === info.Pid;
    if (ctx.json) {
      ctx.out.json({ Running: true, Url: local.endpoint, Pid: info?.Pid, DataDir: local.paths.dataDir, LogFile: local.paths.logFile, Version: info?.Version, Region: health.Region, StartedByEascmd: started, RunningTasks: names });
      return;
    }
    ctx.out.ok(`The local controller is running at ${local.endpoint}${started ? '' : ` (not started by eascmd from ${tildify(local.paths.dataDir, ctx.home)})`}`);
    ctx.out.print(
      renderKeyValueTable([
        ['Url', local.endpoint],
        ['Pid', info ? String(info.Pid) : 'unknown'],
        ['DataDir', tildify(local.paths.dataDir, ctx.home)],
        ['LogFile', tildify(local.paths.logFile, ctx.home)],
        ['Version', info?.Version ?? 'unknown'],
        ['Region', health.Region],
        ['RunningTasks', tasks],
      ]),
    );
  },
};

export const controllerStopCommand: CommandSpec<GlobalArgs> = {
  command: 'stop',
  describe: 'Stop the local controller (running rounds end and their reports are written, as on SIGTERM)',
  builder: (y) => y,
  run: async (args, ctx) => {
    const local = await inspect(ctx, args);
    const pid = pidToStop(local);
    if (pid === undefined) {
      if (ctx.json) ctx.out.json({ Stopped: false, Running: false, Url: local.endpoint });
      else ctx.out.ok(notRunning(ctx, local));
      return;
    }
    await stopProcess(pid, STOP_TIMEOUT_MS);
    if (ctx.json) ctx.out.json({ Stopped: true, Pid: pid, Url: local.endpoint });
    else ctx.out.ok(`Stopped the local controller at ${local.endpoint} (pid ${pid}); its running rounds ended and their reports were written`);
  },
};

interface LogsArgs extends GlobalArgs {
  follow: boolean;
  lines: number;
}

export const controllerLogsCommand: CommandSpec<LogsArgs> = {
  command: 'logs',
  describe: "Print the local controller's log (~/.eas/controller/controller.log); -f follows it",
  builder: (y) =>
    y
      .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'Keep printing what is appended, until CTRL+C' })
      .option('lines', { alias: 'n', type: 'number', default: 200, describe: 'How many of the last lines to print first (0: all)' }),
  run: async (args, ctx) => {
    const file = ctx.localPaths().logFile;
    const log = readLog(file);
    if (!log && !args.follow) {
      ctx.out.ok(`No log yet: ${tildify(file, ctx.home)} does not exist (the local controller has never been started)`);
      return;
    }
    if (log) ctx.io.stdout.write(lastLines(log.text, args.lines));
    if (!args.follow) return;
    let stop: () => void = () => undefined;
    const until = new Promise<void>((resolve) => (stop = resolve));
    process.once('SIGINT', stop);
    try {
      await followFile(file, log?.size ?? 0, (text) => ctx.io.stdout.write(text), { pollMs: ctx.timing.pollIntervalMs, until });
    } finally {
      process.removeListener('SIGINT', stop);
    }
  },
};

/** `controller <status|stop|logs>`: wired by the root with its own register function. */
export function controllerCommands(y: Argv<GlobalArgs>, register: <A extends GlobalArgs>(y: Argv<GlobalArgs>, spec: CommandSpec<A>) => Argv<GlobalArgs>): Argv<GlobalArgs> {
  register(y, controllerStatusCommand);
  register(y, controllerStopCommand);
  register(y, controllerLogsCommand);
  return y.demandCommand(1, 'Specify a controller command: status, stop or logs');
}
