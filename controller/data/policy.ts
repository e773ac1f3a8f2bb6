import * as dns from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import * as path from 'node:path';
import { BenchError } from '../../src/contract';
import { sourceError } from './limits';

/** A DNS lookup in the shape of `dns.lookup` with `all: true`; tests inject one so no query leaves the machine. */
export type DataLookup = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

/** What a task's data sources may reach on the controller's machine and network. */
export interface DataPolicy {
  /** Folders local paths (and `file://`) may be read under; none means no local data at all. */
  roots: readonly string[];
  /** Never read, even under a root: the controller's data dir and its credentials file. */
  excluded: readonly string[];
  /** Whether http(s) sources may reach private, loopback, link-local and unspecified addresses. */
  allowPrivate: boolean;
  lookup?: DataLookup;
  /** Replaces the address rule (tests: allow a loopback server under one name only). */
  addressAllowed?: (address: string, hostname: string) => boolean;
}

/** The policy of a controller started without `--data-root` or `--allow-private-data`. */
export const CLOSED_DATA_POLICY: DataPolicy = { roots: [], excluded: [], allowPrivate: false };

export const OUTSIDE_ROOTS = "outside the controller's data roots";
export const NO_LOCAL_DATA = 'local data paths are not allowed on this controller; start it with --data-root DIR';
export const PRIVATE_ADDRESS = 'private, loopback or link-local address (start the controller with --allow-private-data to allow)';

/** The one refusal shape: it says which rule, never what was found behind it. */
export function refused(source: string, rule: string): BenchError {
  return sourceError(source, `refused by policy: ${rule}`);
}

// IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are matched against the IPv4 rules by BlockList itself
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
PRIVATE.addAddress('::', 'ipv6');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('fe80::', 10, 'ipv6');

/** Private (RFC 1918, CGNAT, ULA), loopback, link-local (cloud metadata included) or unspecified. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return false;
  return PRIVATE.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

export function addressAllowed(policy: DataPolicy, address: string, hostname: string): boolean {
  if (policy.addressAllowed) return policy.addressAllowed(address, hostname);
  return policy.allowPrivate || !isPrivateAddress(address);
}

/** Thrown inside a connection attempt; the http reader turns it into a refusal. */
export class AddressRefused extends Error {
  readonly code = 'EAS_DATA_ADDRESS_REFUSED';
  constructor() {
    super('address refused by the data policy');
  }
}

export function isAddressRefused(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof AddressRefused || (e as NodeJS.ErrnoException).code === 'EAS_DATA_ADDRESS_REFUSED') return true;
  }
  return false;
}

/**
 * The lookup the sockets of data fetches connect with: every address the name
 * resolves to must pass, and the socket connects to one of exactly those, so a
 * name cannot pass the check and then resolve elsewhere (DNS rebinding).
 */
export function guardedLookup(policy: DataPolicy): LookupFunction {
  const lookup: DataLookup = policy.lookup ?? dns.lookup;
  return (hostname, options, callback) => {
    lookup(hostname, { family: options.family, hints: options.hints, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      if (addresses.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
      if (addresses.some((a) => !addressAllowed(policy, a.address, hostname))) return callback(new AddressRefused(), '');
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** True when `file` is `dir` or lies below it (both absolute and normalized). */
export function isWithin(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
