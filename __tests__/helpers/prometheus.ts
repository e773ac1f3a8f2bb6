import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { tempDir, waitFor } from './processes';

/**
 * Debian's `prometheus` (the package .ci/run installs) as a real process on
 * 127.0.0.1, scraping one target every second, with its storage in a temp
 * dir; read back through its HTTP query API.
 */

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface PrometheusProcess {
  url: string;
  /** An instant query; each series' labels and value (`NaN` as Prometheus writes it). */
  query(expr: string): Promise<PromSample[]>;
  /** The one value of a query that must yield exactly one series. */
  value(expr: string): Promise<number>;
  output(): string;
  stop(): Promise<void>;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts prometheus scraping `target` (host:port) at `metricsPath`, with a bearer token when given. Fails, not skips, when the binary is missing. */
export async function startPrometheus(target: string, options: { bearerToken?: string; metricsPath?: string } = {}): Promise<PrometheusProcess> {
  if (!fs.existsSync(PROMETHEUS_BIN)) {
    throw new Error(`${PROMETHEUS_BIN} is missing: install Debian's prometheus (apt-get install prometheus; .ci/run installs it)`);
  }
  const dir = tempDir('prometheus');
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: easbench',
    `    metrics_path: ${options.metricsPath ?? '/metrics'}`,
    ...(options.bearerToken ? ['    authorization:', '      type: Bearer', `      credentials: ${JSON.stringify(options.bearerToken)}`] : []),
    '    static_configs:',
    `      - targets: [${JSON.stringify(target)}]`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn(PROMETHEUS_BIN, [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const query = async (expr: string): Promise<PromSample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success' || !body.data) throw new Error(`query ${expr} failed: ${body.error ?? res.status}`);
    if (body.data.resultType !== 'vector') throw new Error(`query ${expr} gave a ${body.data.resultType}, not a vector`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  try {
    await waitFor('prometheus to be ready', async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}:\n${out}`);
      return (await fetch(`${url}/-/ready`)).ok;
    }, 20000, 100);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${out}`);
  }
  return {
    url,
    query,
    async value(expr: string): Promise<number> {
      const samples = await query(expr);
      if (samples.length !== 1) throw new Error(`query ${expr} gave ${samples.length} series, not one`);
      return samples[0].value;
    },
    output: () => out,
    stop,
  };
}
