import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * Network namespaces made by a test, each joined to the host by a veth pair
 * with its own /30 out of one unusual private /24 (10.231.N.0/24). Every name
 * carries one random prefix, and `teardown` removes exactly what `create`
 * made: deleting a namespace deletes its end of the pair, and with it the
 * host's end.
 */

export interface Namespace {
  /** `ip netns` name. */
  name: string;
  /** The host's end of the pair. */
  hostAddress: string;
  /** The namespace's end: where its processes' connections come from. */
  address: string;
}

export interface NamespaceSet {
  namespaces: Namespace[];
  /** Runs a command inside `ns`: prefix for spawn. */
  wrap(ns: Namespace): string[];
  teardown(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why namespaces cannot be made here (not root, no `ip`, no veth), or undefined when they can; makes and removes one, with a pair into it, to find out. */
export function namespacesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: network namespaces need CAP_SYS_ADMIN';
  const probe = `ebq${randomBytes(3).toString('hex')}`;
  try {
    ip('netns', 'add', probe);
  } catch (err) {
    return `ip netns add failed: ${(err as Error).message.split('\n')[0]}`;
  }
  try {
    ip('link', 'add', `${probe}h`, 'type', 'veth', 'peer', 'name', `${probe}n`, 'netns', probe);
    return undefined;
  } catch (err) {
    return `no veth pair: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    try {
      // the pair goes with the namespace that holds one end
      ip('netns', 'del', probe);
    } catch {
      // nothing more to do about a probe that would not go
    }
  }
}

/** Makes `count` namespaces (at most 60: /30s of one /24), each reaching the whole /24 through its host end. */
export function createNamespaces(count: number): NamespaceSet {
  const prefix = `ebp${randomBytes(3).toString('hex')}`;
  const subnet = `10.231.${1 + (randomBytes(1)[0] % 250)}`;
  const made: string[] = [];
  const set: NamespaceSet = {
    namespaces: [],
    wrap: (ns) => ['ip', 'netns', 'exec', ns.name],
    teardown: () => {
      for (const name of made.splice(0)) {
        try {
          ip('netns', 'del', name);
        } catch {
          // already gone
        }
      }
    },
  };
  try {
    for (let i = 0; i < count; i++) {
      const name = `${prefix}-${i}`;
      // interface names are at most 15 characters: "ebp" + 6 hex + "h" + index
      const hostIf = `${prefix}h${i}`;
      const nsIf = `${prefix}n${i}`;
      const hostAddress = `${subnet}.${4 * i + 1}`;
      const address = `${subnet}.${4 * i + 2}`;
      ip('netns', 'add', name);
      made.push(name);
      ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', name);
      ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
      ip('link', 'set', hostIf, 'up');
      ip('-n', name, 'addr', 'add', `${address}/30`, 'dev', nsIf);
      ip('-n', name, 'link', 'set', nsIf, 'up');
      ip('-n', name, 'link', 'set', 'lo', 'up');
      // the other namespaces' host ends (where the controller and the target listen) are reached through ours
      ip('-n', name, 'route', 'add', `${subnet}.0/24`, 'via', hostAddress);
      set.namespaces.push({ name, hostAddress, address });
    }
  } catch (err) {
    set.teardown();
    throw err;
  }
  return set;
}
