import * as fs from 'node:fs';
import * as path from 'node:path';
import { ServiceRegistry } from '../../controller/services';
import { BenchError, parseServicesFile } from '../../src/contract';
import { runCli, tempHome } from './cli-run-helper';

/**
 * The user's service registry: `eascmd bench service add/list` write and read
 * `~/.eas/services.json` (HOME-relative), and the controller's registry reads
 * the same file again whenever it changes.
 */

describe('bench service add / list and the registry file', () => {
  let home: string;
  let file: string;
  beforeEach(() => {
    home = tempHome();
    file = path.join(home, '.eas', 'services.json');
  });

  test('add writes ~/.eas/services.json (0600, the documented format); add again replaces; list shows no token', async () => {
    const first = await runCli(['bench', 'service', 'add', 'xgb_test', 'http://127.0.0.1:9001/api/predict/xgb_test', '--token', 's3cret'], { home });
    expect(first).toEqual({ code: 0, stderr: '', stdout: '[OK] Service xgb_test added to ~/.eas/services.json: http://127.0.0.1:9001/api/predict/xgb_test (with a token)\n' });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    await runCli(['bench', 'service', 'add', 'demo', 'http://127.0.0.1:9002/demo'], { home });
    const again = await runCli(['bench', 'service', 'add', 'xgb_test', 'http://127.0.0.1:9003/x'], { home });
    expect(again.stdout).toBe('[OK] Service xgb_test updated in ~/.eas/services.json: http://127.0.0.1:9003/x\n');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({
      services: [
        { name: 'xgb_test', url: 'http://127.0.0.1:9003/x' },
        { name: 'demo', url: 'http://127.0.0.1:9002/demo' },
      ],
    });
    const list = await runCli(['bench', 'service', 'list'], { home });
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(
      [
        '+-------------+----------------------------+-------+',
        '| SERVICENAME |            URL             | TOKEN |',
        '+-------------+----------------------------+-------+',
        '| xgb_test    | http://127.0.0.1:9003/x    | no    |',
        '| demo        | http://127.0.0.1:9002/demo | no    |',
        '+-------------+----------------------------+-------+',
        '',
      ].join('\n'),
    );
    const json = await runCli(['--json', 'bench', 'service', 'list'], { home });
    expect(JSON.parse(json.stdout)).toEqual({ ServicesFile: file, Services: [{ Name: 'xgb_test', Url: 'http://127.0.0.1:9003/x', Token: false }, { Name: 'demo', Url: 'http://127.0.0.1:9002/demo', Token: false }] });
  });

  test('add refuses a name tasks cannot use and a URL that is not http(s); nothing is written', async () => {
    const badName = await runCli(['bench', 'service', 'add', 'a/b', 'http://127.0.0.1:1/'], { home });
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/^\[ERROR\] InvalidField: service\.serviceName: /);
    const badUrl = await runCli(['bench', 'service', 'add', 'ok', 'ftp://x/'], { home });
    expect(badUrl.stderr).toBe('[ERROR] InvalidField: service.url: must use http or https\n');
    expect(fs.existsSync(file)).toBe(false);
    const list = await runCli(['bench', 'service', 'list'], { home });
    expect(list.stdout).toContain('| SERVICENAME | URL | TOKEN |');
  });

  test('a broken registry file is one error line naming it', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"services": [{"name": "x"}]}');
    const res = await runCli(['bench', 'service', 'add', 'y', 'http://127.0.0.1:1/'], { home });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`[ERROR] InvalidParameter: services file ${file}: services[0].url: expected an http(s) URL\n`);
  });

  test('the controller registry reads the file again when it changes: a missing file is empty, an added service resolves', async () => {
    const registry = ServiceRegistry.fromFile(file);
    let err: unknown;
    try {
      registry.resolve({ serviceName: 'xgb_test' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).code).toBe('ServiceNotFound');
    expect((err as BenchError).message).toBe(
      `service xgb_test is not in the service registry ${file}; add it with: eascmd bench service add xgb_test URL [--token TOKEN], or give service.url in the task`,
    );
    await runCli(['bench', 'service', 'add', 'xgb_test', 'http://127.0.0.1:9001/p', '--token', 't1'], { home });
    expect(registry.resolve({ serviceName: 'xgb_test' })).toEqual({ url: 'http://127.0.0.1:9001/p', token: 't1' });
    await runCli(['bench', 'service', 'add', 'xgb_test', 'http://127.0.0.1:9001/q', '--token', 't2'], { home });
    expect(registry.resolve({ serviceName: 'xgb_test' })).toEqual({ url: 'http://127.0.0.1:9001/q', token: 't2' });
    // the task's own url and token win
    expect(registry.resolve({ serviceName: 'xgb_test', url: 'http://127.0.0.1:2/', requestToken: 'own' })).toEqual({ url: 'http://127.0.0.1:2/', token: 'own' });
  });

  test('the parser names what is wrong', () => {
    expect(() => parseServicesFile('[]')).toThrow('expected {"services":[{"name":...,"url":...,"token":...}]}');
    expect(() => parseServicesFile('{"services":[{"name":"a","url":"http://x/","token":1}]}')).toThrow('services[0].token: expected a string');
    expect(() => parseServicesFile('{')).toThrow(/^not valid JSON/);
  });
});
