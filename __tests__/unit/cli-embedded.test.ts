import * as fs from 'node:fs';
import * as path from 'node:path';
import { readConfig } from '../../src/api/config';
import { controllerDataDir, embeddedControllerArgs, ensureEmbeddedController, isEmbeddedConfig, readControllerCredentials } from '../../src/api/embedded';
import { idleLauncher, useInProcessController } from '../helpers/controller';
import { tempHome } from './cli-run-helper';

describe('cli embedded default controller', () => {
  // the real controller over the data dir eascmd gives the one it starts: ~/.eas/controller of this home
  const home = tempHome();
  const local = useInProcessController({ dataDir: controllerDataDir(home) }, { launcher: idleLauncher });

  test('a controller already answering: its generated credentials are saved to the config file (0600), one line says so', async () => {
    const configPath = path.join(home, '.eas', 'config');
    const lines: string[] = [];
    const config = await ensureEmbeddedController({ configPath, home, endpoint: local().url, notify: (l) => lines.push(l) });
    expect(config).toEqual({ accessId: local().accessId, accessKey: local().secret, endpoint: local().url, region: 'cn-local' });
    expect(readConfig(configPath)).toEqual(config);
    expect(fs.statSync(configPath).mode & 0o777).toBe(0o600);
    expect(lines).toEqual([`Found a local controller at ${local().url} (data in ~/.eas/controller); credentials saved to ~/.eas/config`]);
  });

  test('a controller that eascmd did not start (no credentials file) is a clear error, and no config is written', async () => {
    // another home: the controller answering is not the one under its ~/.eas/controller
    const other = tempHome();
    const configPath = path.join(other, '.eas', 'config');
    await expect(ensureEmbeddedController({ configPath, home: other, endpoint: local().url, notify: () => undefined })).rejects.toThrow(
      /was not started by eascmd .*eascmd config -i AK -k SK -e/,
    );
    expect(fs.existsSync(configPath)).toBe(false);
  });

  test('readControllerCredentials ignores missing, partial and malformed files', () => {
    const dir = tempHome();
    const file = path.join(dir, 'credentials.json');
    expect(readControllerCredentials(file)).toBeUndefined();
    fs.writeFileSync(file, '{"keys":[{"id":"a"');
    expect(readControllerCredentials(file)).toBeUndefined();
    fs.writeFileSync(file, '{"keys":[]}');
    expect(readControllerCredentials(file)).toBeUndefined();
    fs.writeFileSync(file, '{"keys":[{"id":"a","secret":"b"},{"id":"c","secret":"d"}]}');
    expect(readControllerCredentials(file)).toEqual({ id: 'a', secret: 'b' });
  });

  test('only a config with the default endpoint and the local controller\'s key counts as embedded (and is restarted when down)', () => {
    const home = tempHome();
    const dataDir = controllerDataDir(home);
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'credentials.json'), JSON.stringify({ keys: [{ id: 'gen-id', secret: 's' }] }));
    const config = { accessId: 'gen-id', accessKey: 's', endpoint: 'http://127.0.0.1:8020', region: 'cn-local' };
    expect(isEmbeddedConfig(config, home)).toBe(true);
    expect(isEmbeddedConfig({ ...config, accessId: 'other' }, home)).toBe(false);
    expect(isEmbeddedConfig({ ...config, endpoint: 'http://10.0.0.1:8020' }, home)).toBe(false);
    expect(isEmbeddedConfig(config, tempHome())).toBe(false);
  });

  test('the embedded controller is started with the working directory and home as data roots, and private addresses allowed', () => {
    const registry = ['--services', '/home/u/.eas/services.json'];
    expect(embeddedControllerArgs('/home/u', '/work/project')).toEqual(['--data-root', '/work/project', '--data-root', '/home/u', '--allow-private-data', ...registry]);
    expect(embeddedControllerArgs('/home/u', '/home/u')).toEqual(['--data-root', '/home/u', '--allow-private-data', ...registry]);
  });
});
