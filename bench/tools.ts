import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** Peers and targets of the benchmark that come from Debian: installed when missing. */
export function ensureDebianPackages(commands: Record<string, string>): void {
  const missing = Object.entries(commands).filter(([cmd]) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0);
  if (missing.length === 0) return;
  const packages = missing.map(([, pkg]) => pkg);
  process.stdout.write(`installing ${packages.join(', ')} from Debian\n`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

/** nginx on 127.0.0.1 answering a fixed 200, one worker (the same share of the machine as the fixture). */
export async function startNginx(): Promise<Nginx> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eas-bench-nginx-'));
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:${port};
    location / { return 200 '{"ok":true}'; }
  }
}
`,
  );
  const proc = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      if (res.status === 200) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    async stop(): Promise<void> {
      proc.kill('SIGQUIT');
      await new Promise((r) => proc.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a peer tool without blocking this process's event loop (its keep-alive sockets must stay served). */
export function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} failed: ${err}`))));
  });
}

/** wrk, one thread (like one agent process), fixed concurrency and duration. */
export async function wrk(url: string, connections: number, durationS: number): Promise<{ rps: number }> {
  const out = await run('wrk', ['-t1', `-c${connections}`, `-d${durationS}s`, url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  return { rps };
}

export interface AutocannonResult {
  rps: number;
  p99Ms: number;
  total: number;
}

/** autocannon from node_modules; `rate` makes it send at most that many requests per second. */
export async function autocannon(url: string, connections: number, durationS: number, rate?: number): Promise<AutocannonResult> {
  const bin = require.resolve('autocannon/autocannon.js');
  const args = [bin, '-j', '-c', String(connections), '-d', String(durationS), ...(rate ? ['-R', String(rate)] : []), url];
  const json = JSON.parse(await run(process.execPath, args)) as { requests: { average: number; total: number }; latency: { p99: number } };
  return { rps: json.requests.total / durationS, p99Ms: json.latency.p99, total: json.requests.total };
}

export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

export function machine(): string {
  const cpu = /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
}

export function versions(): Record<string, string> {
  const first = (cmd: string, args: string[]): string => {
    const res = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${res.stdout}${res.stderr}`.split('\n')[0].trim();
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannonVersion = (require('autocannon/package.json') as { version: string }).version;
  return {
    node: process.version,
    autocannon: autocannonVersion,
    wrk: first('wrk', ['--version']).replace(/ Copyright.*/, ''),
    nginx: first('nginx', ['-v']).replace('nginx version: ', ''),
  };
}

/** Runs a script's main: exit 0 when it resolves, or its stack on stderr and exit 1. */
export function runScript(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`${name} failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}
