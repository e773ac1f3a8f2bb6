import { Argv } from 'yargs';
import { DEFAULT_REGION, writeConfig } from '../api/config';
import { CommandSpec } from './command';
import { GlobalArgs } from './context';

interface ConfigArgs extends GlobalArgs {
  'access-id': string;
  'access-key': string;
  endpoint: string;
  region: string;
}

/** `eascmd config -i AK -k SK -e ENDPOINT [-r REGION]`: writes the config file (0600). */
export const configCommand: CommandSpec<ConfigArgs> = {
  command: 'config',
  describe: 'Write the client configuration file (credentials, endpoint, region)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('access-id', { alias: 'i', type: 'string', demandOption: true, requiresArg: true, describe: 'AccessKey ID' })
      .option('access-key', { alias: 'k', type: 'string', demandOption: true, requiresArg: true, describe: 'AccessKey secret' })
      .option('endpoint', { alias: 'e', type: 'string', demandOption: true, requiresArg: true, describe: 'Controller URL, e.g. http://127.0.0.1:8020' })
      .option('region', { alias: 'r', type: 'string', default: DEFAULT_REGION, requiresArg: true, describe: 'Region tasks are addressed in' }),
  run: async (args, ctx) => {
    writeConfig(ctx.configPath, { accessId: args.accessId, accessKey: args.accessKey, endpoint: args.endpoint, region: args.region });
    if (ctx.json) ctx.out.json({ ConfigFile: ctx.configPath, Endpoint: args.endpoint, Region: args.region });
    else ctx.out.ok(`Configuration saved to ${ctx.configPath}`);
  },
};
