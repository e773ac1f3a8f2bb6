import * as fs from 'node:fs';
import { BenchError, ServiceSpec } from '../src/contract';

export interface RegisteredService {
  name: string;
  url: string;
  token?: string;
}

/** The service registry: serviceName -> url and token, from `--services FILE`. */
export class ServiceRegistry {
  private readonly services = new Map<string, RegisteredService>();

  static fromFile(file: string | undefined): ServiceRegistry {
    const registry = new ServiceRegistry();
    if (!file) return registry;
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { services?: RegisteredService[] };
    for (const s of parsed.services ?? []) {
      if (typeof s.name !== 'string' || typeof s.url !== 'string') throw new Error(`services file ${file}: every service needs a name and a url`);
      registry.services.set(s.name, s);
    }
    return registry;
  }

  /** The URL and token a task sends to: `service.url` wins over the registry. */
  resolve(spec: ServiceSpec): { url: string; token?: string } {
    const registered = this.services.get(spec.serviceName);
    if (spec.url) return { url: spec.url, token: spec.requestToken ?? registered?.token };
    if (!registered) {
      throw new BenchError('ServiceNotFound', `service ${spec.serviceName} is not in the controller's service registry; give service.url or register it`, {
        field: 'service.serviceName',
        resource: spec.serviceName,
      });
    }
    return { url: registered.url, token: spec.requestToken ?? registered.token };
  }
}
