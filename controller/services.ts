import * as fs from 'node:fs';
import { BenchError, RegisteredService, ServiceSpec, parseServicesFile } from '../src/contract';

export type { RegisteredService };

/** How a file-backed registry was asked for: the embedded controller's user file may not exist yet. */
interface RegistrySource {
  file: string;
  /** The file as this registry last read it (inode, mtime, size): it is read again when they change. */
  seen: string;
}

/**
 * The service registry: serviceName -> url and token, from `--services FILE`.
 * The file is read again whenever it changes, so `eascmd bench service add`
 * takes effect on a controller that is already running (the embedded one
 * keeps running between commands). A missing file is an empty registry.
 */
export class ServiceRegistry {
  private services = new Map<string, RegisteredService>();
  private source?: RegistrySource;

  static fromFile(file: string | undefined): ServiceRegistry {
    const registry = new ServiceRegistry();
    if (!file) return registry;
    registry.source = { file, seen: '' };
    // a broken file at start is the operator's to fix now, not at the first task
    registry.refresh();
    return registry;
  }

  /** The file this registry reads, if any. */
  get file(): string | undefined {
    return this.source?.file;
  }

  private refresh(): void {
    const source = this.source;
    if (!source) return;
    let stamp: string;
    try {
      const stat = fs.statSync(source.file);
      // the inode too: the CLI replaces the file by a rename, which may keep its size and mtime
      stamp = `${stat.ino}|${stat.mtimeMs}|${stat.size}`;
    } catch {
      stamp = 'missing';
    }
    if (stamp === source.seen) return;
    const services = new Map<string, RegisteredService>();
    if (stamp !== 'missing') {
      let text: string;
      try {
        text = fs.readFileSync(source.file, 'utf8');
        for (const s of parseServicesFile(text).services) services.set(s.name, s);
      } catch (err) {
        throw new BenchError('InvalidParameter', `services file ${source.file}: ${(err as Error).message}`, { resource: source.file });
      }
    }
    this.services = services;
    source.seen = stamp;
  }

  /** The URL and token a task sends to: `service.url` wins over the registry. */
  resolve(spec: ServiceSpec): { url: string; token?: string } {
    if (!spec.url) this.refresh();
    const registered = this.services.get(spec.serviceName);
    if (spec.url) return { url: spec.url, token: spec.requestToken ?? registered?.token };
    if (!registered) throw this.notFound(spec.serviceName);
    return { url: registered.url, token: spec.requestToken ?? registered.token };
  }

  /** Names the file to fix and the exact command that fixes it. */
  private notFound(name: string): BenchError {
    const where = this.source
      ? `service ${name} is not in the service registry ${this.source.file}; add it with: eascmd bench service add ${name} URL [--token TOKEN]`
      : // an embedded controller started by an older eascmd has no registry file: stopping it lets the next command start it with one
        `service ${name} is not in the controller's service registry: it was started without --services FILE (a local controller: eascmd controller stop, and the next eascmd command starts it with ~/.eas/services.json)`;
    return new BenchError('ServiceNotFound', `${where}, or give service.url in the task`, { field: 'service.serviceName', resource: name });
  }
}
