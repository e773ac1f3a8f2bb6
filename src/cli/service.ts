import { Argv } from 'yargs';
import { userServicesFile } from '../api/embedded';
import { tildify } from '../api/config';
import { addService, readServicesFile } from '../api/services-file';
import { InvalidFieldError, RegisteredService, redactUrl, registeredServiceProblem, validateTask } from '../contract';
import { renderTable } from '../output/table';
import { CommandSpec } from './command';
import { CliContext, GlobalArgs } from './context';

/**
 * `eascmd bench service add NAME URL [--token T]` and `bench service list`:
 * the user's service registry, `~/.eas/services.json`, which the embedded
 * controller reads, so the reference's task JSON, which names only
 * `service.serviceName`, runs as written. A local file, not an API call: it
 * is the registry of the controller on this machine (another controller has
 * its own `--services FILE`).
 */

interface AddArgs extends GlobalArgs {
  name: string;
  url: string;
  token?: string;
}

function registryFile(ctx: CliContext): string {
  return userServicesFile(ctx.home);
}

export const serviceAddCommand: CommandSpec<AddArgs> = {
  command: 'add <name> <url>',
  describe: 'Register a service for the local controller: serviceName -> URL (and token)',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'service.serviceName of the tasks' })
      .positional('url', { type: 'string', demandOption: true, describe: 'Full request URL of the service' })
      .option('token', { type: 'string', requiresArg: true, describe: 'Sent as Authorization: <token> (the EAS service token)' }),
  run: (args, ctx) => {
    // the same rules a task's service section obeys, so what is added can be used
    const service: RegisteredService = { name: args.name, url: args.url, ...(args.token !== undefined ? { token: args.token } : {}) };
    const checked = validateTask({ service: { serviceName: service.name, url: service.url, ...(service.token !== undefined ? { requestToken: service.token } : {}) } });
    if (!checked.ok) throw new InvalidFieldError(checked.errors);
    const problem = registeredServiceProblem(service);
    if (problem) throw new InvalidFieldError([problem]);
    const file = registryFile(ctx);
    const replaced = addService(file, service);
    const where = tildify(file, ctx.home);
    if (ctx.json) ctx.out.json({ ServicesFile: file, Name: args.name, Url: redactUrl(args.url), Token: args.token !== undefined, Replaced: replaced });
    else ctx.out.ok(`Service ${args.name} ${replaced ? 'updated in' : 'added to'} ${where}: ${redactUrl(args.url)}${args.token !== undefined ? ' (with a token)' : ''}`);
    return Promise.resolve();
  },
};

export const serviceListCommand: CommandSpec<GlobalArgs> = {
  command: ['list', 'ls'],
  describe: 'List the services of the local registry (~/.eas/services.json)',
  builder: (y) => y,
  run: (_args, ctx) => {
    const file = registryFile(ctx);
    const { services } = readServicesFile(file);
    // tokens are secrets: only whether there is one is shown
    const rows = services.map((s) => ({ Name: s.name, Url: redactUrl(s.url), Token: s.token !== undefined }));
    if (ctx.json) ctx.out.json({ ServicesFile: file, Services: rows });
    else ctx.out.print(renderTable(['ServiceName', 'Url', 'Token'], rows.map((r) => [r.Name, r.Url, r.Token ? 'yes' : 'no'])));
    return Promise.resolve();
  },
};

/** `bench service <add|list>`: wired by the root with its own register function. */
export function serviceCommands(y: Argv<GlobalArgs>, register: <A extends GlobalArgs>(y: Argv<GlobalArgs>, spec: CommandSpec<A>) => Argv<GlobalArgs>): Argv<GlobalArgs> {
  register(y, serviceAddCommand);
  register(y, serviceListCommand);
  return y.demandCommand(1, 'Specify a service command: add or list');
}
