// Offline validation of Kubernetes objects: the JSON schemas of the kubernetes-models packages
// (types, required fields, enums; the prometheus-operator CRDs' schemas for ServiceMonitor and
// PrometheusRule), plus a check for unknown fields, which those schemas let through, walked over
// the attribute maps of @kubernetes/client-node's generated models.
import * as k8s from '@kubernetes/client-node';

interface Attribute {
  baseName: string;
  type: string;
}
type ModelClass = { getAttributeTypeMap(): Attribute[] };

const models = k8s as unknown as Record<string, ModelClass | undefined>;

/** Module that holds the kubernetes-models class of an apiVersion/kind. */
function modelModule(apiVersion: string, kind: string): string {
  if (apiVersion === 'monitoring.coreos.com/v1') return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** Schema errors of one object, as "path: message" lines; empty when valid. */
export async function schemaErrors(obj: { apiVersion: string; kind: string }): Promise<string[]> {
  let mod: Record<string, new (data: unknown) => { validate(): void }>;
  try {
    mod = (await import(modelModule(obj.apiVersion, obj.kind))) as typeof mod;
  } catch (err) {
    return [`no schema for ${obj.apiVersion} ${obj.kind}: ${(err as Error).message}`];
  }
  const Model = mod[obj.kind]!;
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    return String((err as Error).message).split(', ');
  }
}

/** Fields the client-node model of the kind does not know, as JSON paths. */
export function unknownFields(obj: { apiVersion: string; kind: string }): string[] {
  const version = obj.apiVersion.split('/').at(-1)!;
  const root = `${version[0]!.toUpperCase()}${version.slice(1)}${obj.kind}`;
  if (!models[root]) return [`no model ${root} for ${obj.apiVersion} ${obj.kind}`];
  const out: string[] = [];
  walk(obj, root, '', out);
  return out;
}

function walk(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, array[1]!, `${path}[${i}]`, out));
    return;
  }
  const cls = models[type];
  if (!cls || typeof value !== 'object' || Array.isArray(value)) return; // scalars, maps, IntOrString, quantities
  const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, v] of Object.entries(value)) {
    const t = attrs.get(key);
    if (t === undefined) out.push(`${path}.${key}`);
    else walk(v, t, `${path}.${key}`, out);
  }
}
