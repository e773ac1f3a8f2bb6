import { BenchError } from '../../src/contract';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { DataLimits, readLimited, sourceError, tooBig } from './limits';
import { addressAllowed, DataPolicy, guardedLookup, isAddressRefused, PRIVATE_ADDRESS, refused } from './policy';

const MAX_REDIRECTIONS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Connection-level failures all read the same, so a task cannot map which
 * hosts and ports answer from the controller's network by their messages.
 */
const UNREACHABLE = 'could not be fetched';

/** A URL naming an IP literal connects without a lookup, so it is checked here. */
function checkLiteralHost(source: string, url: URL, policy: DataPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused(source, 'redirect to a URL that is not http(s)');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !addressAllowed(policy, host, host)) throw refused(source, PRIVATE_ADDRESS);
}

function fetchError(source: string, err: unknown): BenchError {
  if (err instanceof BenchError) return err;
  if (isAddressRefused(err)) return refused(source, PRIVATE_ADDRESS);
  return sourceError(source, UNREACHABLE);
}

/**
 * An `http(s)://` source: GET, 2xx only. Redirects are followed here, not by
 * undici, so every hop's host is checked against the policy; the lookup the
 * sockets use checks the addresses each name resolves to.
 */
export async function readHttp(source: string, limits: DataLimits, policy: DataPolicy): Promise<Buffer> {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw sourceError(source, 'not a valid URL');
  }
  // One dispatcher per fetch: data is read once per round, and closing it leaves no sockets behind.
  const agent = new Agent({ headersTimeout: limits.fetchTimeoutMs, bodyTimeout: limits.fetchTimeoutMs, connect: { lookup: guardedLookup(policy) } });
  try {
    for (let hop = 0; ; hop++) {
      checkLiteralHost(source, url, policy);
      const res = await request(url, { method: 'GET', dispatcher: agent });
      const location = res.headers.location;
      if (REDIRECT_STATUSES.has(res.statusCode) && location !== undefined) {
        await res.body.dump().catch(() => undefined);
        if (hop >= MAX_REDIRECTIONS) throw sourceError(source, `more than ${MAX_REDIRECTIONS} redirects`);
        try {
          url = new URL(Array.isArray(location) ? location[0] : location, url);
        } catch {
          throw sourceError(source, 'redirect to an invalid URL');
        }
        continue;
      }
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
    }
  } catch (err) {
    throw fetchError(source, err);
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}
