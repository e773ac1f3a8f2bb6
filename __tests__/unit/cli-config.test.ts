import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfigPath, parseConfig, readConfig, resolveConfigPath, writeConfig } from '../../src/api/config';
import { BenchError } from '../../src/contract';
import { runCli, tempHome } from './cli-run-helper';

describe('cli config file', () => {
  test('writeConfig creates the directory, writes [default] with mode 0600, and readConfig reads it back', () => {
    const home = tempHome();
    const file = path.join(home, '.eas', 'nested', 'config');
    writeConfig(file, { accessId: 'AK', accessKey: 'S=K;#x', endpoint: 'http://127.0.0.1:8020/', region: 'cn-hangzhou' });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toContain('[default]');
    expect(readConfig(file)).toEqual({ accessId: 'AK', accessKey: 'S=K;#x', endpoint: 'http://127.0.0.1:8020', region: 'cn-hangzhou' });
  });

  test('rewriting tightens a loose mode back to 0600 and keeps other sections', () => {
    const home = tempHome();
    const file = path.join(home, 'cfg');
    fs.writeFileSync(file, '[other]\nkey = value\n', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    writeConfig(file, { accessId: 'a', accessKey: 'b', endpoint: 'https://eas.example.com', region: '' });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('[other]');
    expect(readConfig(file)?.region).toBe('cn-local');
  });

  test('a missing file reads as undefined (the embedded default applies)', () => {
    expect(readConfig(path.join(tempHome(), 'nope'))).toBeUndefined();
  });

  test('missing keys and bad endpoints are InvalidParameter errors naming the file', () => {
    expect(() => parseConfig('[default]\naccess_id = a\nendpoint = http://x\n', '/f')).toThrow(/config file \/f: missing access_key/);
    expect(() => parseConfig('access_id = a\n', '/f')).toThrow(/no \[default\] section/);
    try {
      parseConfig('[default]\naccess_id = a\naccess_key = b\nendpoint = ftp://x\n', '/f');
      throw new Error('not thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(BenchError);
      expect((err as BenchError).code).toBe('InvalidParameter');
      expect((err as BenchError).message).toMatch(/must use http or https/);
    }
  });

  test('-c beats EASCMD_CONFIG beats ~/.eas/config; ~ is expanded', () => {
    const home = '/home/u';
    expect(resolveConfigPath('/a/b', { EASCMD_CONFIG: '/c/d' }, home)).toEqual({ path: '/a/b', source: 'flag' });
    expect(resolveConfigPath(undefined, { EASCMD_CONFIG: '~/c' }, home)).toEqual({ path: '/home/u/c', source: 'env' });
    expect(resolveConfigPath(undefined, {}, home)).toEqual({ path: defaultConfigPath(home), source: 'default' });
    expect(defaultConfigPath(home)).toBe('/home/u/.eas/config');
  });

  test('eascmd config -i -k -e -r writes the file the global -c names', async () => {
    const home = tempHome();
    const file = path.join(home, 'sub', 'my.ini');
    const res = await runCli(['-c', file, 'config', '-i', 'AK1', '-k', 'SK1', '-e', 'http://10.0.0.1:8020', '-r', 'cn-shanghai'], { home });
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toBe(`[OK] Configuration saved to ${file}\n`);
    expect(readConfig(file)).toEqual({ accessId: 'AK1', accessKey: 'SK1', endpoint: 'http://10.0.0.1:8020', region: 'cn-shanghai' });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  test('eascmd config without -k is a usage error (exit 2, help on stderr)', async () => {
    const res = await runCli(['config', '-i', 'AK1', '-e', 'http://x'], { home: tempHome() });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Missing required argument: access-key/);
    expect(res.stderr).toMatch(/--access-key/);
  });
});
