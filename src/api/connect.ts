import * as os from 'node:os';
import { BenchError } from '../contract';
import { ControllerClient, normalizeEndpoint } from './client';
import { DEFAULT_ENDPOINT, readConfig, tildify } from './config';
import { controllerDataDir, ensureEmbeddedController, isEmbeddedConfig, restartEmbeddedIfDown } from './embedded';

/** A client ready to use, with the region tasks are addressed in. */
export interface Connection {
  client: ControllerClient;
  region: string;
  endpoint: string;
  configPath: string;
}

export interface ConnectOptions {
  configPath: string;
  /** `--endpoint URL`: replaces the file's endpoint for this call. */
  endpointOverride?: string;
  home?: string;
  notify: (line: string) => void;
}

/**
 * Reads the config file; when it does not exist, falls back to the embedded
 * local controller (and a config the embedded default wrote restarts that
 * controller when it is down). An `--endpoint` other than the local default with no
 * config file is an error: there would be no credentials to sign with.
 */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const override = options.endpointOverride ? normalizeEndpoint(options.endpointOverride) : undefined;
  let config = readConfig(options.configPath);
  if (!config) {
    if (override && override !== DEFAULT_ENDPOINT) {
      throw new BenchError(
        'InvalidParameter',
        `no config file at ${options.configPath}, so there are no credentials for ${override}; run: eascmd config -i AK -k SK -e ${override}`,
      );
    }
    config = await ensureEmbeddedController({ configPath: options.configPath, home: options.home ?? os.homedir(), notify: options.notify });
  } else if (!override && isEmbeddedConfig(config, options.home)) {
    const home = options.home ?? os.homedir();
    if (await restartEmbeddedIfDown(config, { home })) {
      options.notify(`Started the local controller again at ${config.endpoint} (data and log in ${tildify(controllerDataDir(home), home)})`);
    }
  }
  const endpoint = override ?? config.endpoint;
  return {
    client: new ControllerClient({ endpoint, accessId: config.accessId, accessKey: config.accessKey }),
    region: config.region,
    endpoint,
    configPath: options.configPath,
  };
}
