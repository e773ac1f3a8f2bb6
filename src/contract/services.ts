import { jsonErrorAtLine } from './task';
/**
 * The service registry file (SPEC 4.1), shared by the controller, which
 * reads it to resolve `service.serviceName`, and the CLI, whose
 * `eascmd bench service add` writes the user's `~/.eas/services.json`:
 *
 *   {"services":[{"name":"demo","url":"http://127.0.0.1:9001/api/predict/demo","token":"..."}]}
 *
 * One parser, so a file the CLI wrote is always one the controller reads.
 */

export interface RegisteredService {
  name: string;
  url: string;
  token?: string;
}

export interface ServicesFile {
  services: RegisteredService[];
}

/** The file the embedded controller reads, relative to the user's home. */
export const USER_SERVICES_FILE = ['.eas', 'services.json'] as const;

/** What is wrong with one registry entry, as `field: message` (field relative to the entry), or undefined. */
export function registeredServiceProblem(value: unknown): { field: string; message: string } | undefined {
  if (typeof value !== 'object' || value === null) return { field: '', message: 'expected an object' };
  const s = value as Record<string, unknown>;
  if (typeof s.name !== 'string' || s.name === '') return { field: 'name', message: 'expected a non-empty string' };
  if (typeof s.url !== 'string' || !/^https?:\/\/\S+$/.test(s.url)) return { field: 'url', message: 'expected an http(s) URL' };
  if (s.token !== undefined && typeof s.token !== 'string') return { field: 'token', message: 'expected a string' };
  return undefined;
}

/** Parses a services file's text; throws an Error saying what is wrong (the caller names the file). */
export function parseServicesFile(text: string): ServicesFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON: ${jsonErrorAtLine(text, (err as Error).message)}`);
  }
  const list = typeof parsed === 'object' && parsed !== null ? (parsed as { services?: unknown }).services : undefined;
  if (!Array.isArray(list)) throw new Error('expected {"services":[{"name":...,"url":...,"token":...}]}');
  const services: RegisteredService[] = list.map((value: unknown, i) => {
    const problem = registeredServiceProblem(value);
    if (problem) throw new Error(`services[${i}]${problem.field ? `.${problem.field}` : ''}: ${problem.message}`);
    const s = value as RegisteredService;
    return { name: s.name, url: s.url, ...(s.token !== undefined ? { token: s.token } : {}) };
  });
  return { services };
}

/** The file's text for `services`, one service per line so hand edits and diffs stay readable. */
export function formatServicesFile(file: ServicesFile): string {
  if (file.services.length === 0) return '{\n  "services": []\n}\n';
  const lines = file.services.map((s) => `    ${JSON.stringify(s)}`);
  return `{\n  "services": [\n${lines.join(',\n')}\n  ]\n}\n`;
}

/** `services` with `service` added, or replacing the one of the same name (in its place). */
export function withService(file: ServicesFile, service: RegisteredService): ServicesFile {
  const at = file.services.findIndex((s) => s.name === service.name);
  const services = [...file.services];
  if (at >= 0) services[at] = service;
  else services.push(service);
  return { services };
}
