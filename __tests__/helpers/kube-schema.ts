import * as k8s from '@kubernetes/client-node';

/**
 * Checks an object against the Kubernetes model types shipped with
 * @kubernetes/client-node: every field must be one the type declares (an
 * unknown or misspelt field is refused, as `kubectl apply --validate=strict`
 * refuses it), and every value must have the declared primitive type.
 */

type AttributeMap = { name: string; baseName: string; type: string }[];
type Model = { getAttributeTypeMap?: () => AttributeMap };
const MODELS = k8s as unknown as Record<string, Model | undefined>;

/** The model type of a manifest by apiVersion and kind: apps/v1 Deployment -> V1Deployment. */
export function modelTypeOf(manifest: { apiVersion?: string; kind?: string }): string {
  const version = (manifest.apiVersion ?? '').split('/').pop() ?? '';
  const type = `${version.charAt(0).toUpperCase()}${version.slice(1)}${manifest.kind ?? ''}`;
  if (!MODELS[type]?.getAttributeTypeMap) throw new Error(`no client model type ${type} for ${manifest.apiVersion} ${manifest.kind}`);
  return type;
}

/** Where `value` breaks `type`, as `path: problem` lines; empty when it conforms. */
export function schemaErrors(value: unknown, type: string, at = '$'): string[] {
  if (value === undefined || value === null) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => schemaErrors(v, array[1], `${at}[${i}]`)) : [`${at}: expected an array`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return isObject(value) ? Object.entries(value).flatMap(([k, v]) => schemaErrors(v, map[1], `${at}.${k}`)) : [`${at}: expected a map`];
  switch (type) {
    case 'string':
      return typeof value === 'string' ? [] : [`${at}: expected a string, got ${JSON.stringify(value)}`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: expected a number, got ${JSON.stringify(value)}`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected a boolean, got ${JSON.stringify(value)}`];
    case 'IntOrString':
      return typeof value === 'string' || typeof value === 'number' ? [] : [`${at}: expected an int or a string`];
    case 'Date':
      return typeof value === 'string' || value instanceof Date ? [] : [`${at}: expected a time`];
    case 'object':
    case 'any':
      return [];
  }
  const attributes = MODELS[type]?.getAttributeTypeMap?.();
  if (!attributes) return [`${at}: unknown model type ${type}`];
  if (!isObject(value)) return [`${at}: expected a ${type} object`];
  const byName = new Map(attributes.map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([key, v]) => {
    const fieldType = byName.get(key);
    return fieldType ? schemaErrors(v, fieldType, `${at}.${key}`) : [`${at}.${key}: unknown field of ${type}`];
  });
}

/** The client's own round trip (deserialize, serialize): what survives it is what the type knows. */
export function roundTrip(value: unknown, type: string): unknown {
  return JSON.parse(JSON.stringify(k8s.ObjectSerializer.serialize(k8s.ObjectSerializer.deserialize(JSON.parse(JSON.stringify(value)), type), type)));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
