import { BenchError } from '../../src/contract';
import { Agent, interceptors, request } from 'undici';
import { DataLimits, readLimited, reasonOf, sourceError, tooBig } from './limits';

const MAX_REDIRECTIONS = 5;

/** An `http(s)://` source: GET, following a few redirects, 2xx only. */
export async function readHttp(source: string, limits: DataLimits): Promise<Buffer> {
  // One dispatcher per fetch: data is read once per round, and closing it leaves no sockets behind.
  const agent = new Agent({ headersTimeout: limits.fetchTimeoutMs, bodyTimeout: limits.fetchTimeoutMs });
  const dispatcher = agent.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS }));
  try {
    const res = await request(source, { method: 'GET', dispatcher });
    if (res.statusCode < 200 || res.statusCode > 299) {
      await res.body.dump().catch(() => undefined);
      throw sourceError(source, `HTTP ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxSourceBytes) {
      res.body.destroy();
      throw sourceError(source, tooBig(limits.maxSourceBytes));
    }
    return await readLimited(source, res.body, limits.maxSourceBytes, () => res.body.destroy());
  } catch (err) {
    if (err instanceof BenchError) throw err;
    throw sourceError(source, reasonOf(err));
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}
