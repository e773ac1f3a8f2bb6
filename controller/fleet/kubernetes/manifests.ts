import { createHash } from 'node:crypto';
import type { V1Job, V1ResourceRequirements, V1Secret } from '@kubernetes/client-node';
import { AGENT_TOKEN_ENV } from '../../../src/contract';
import { AgentRound } from '../launcher';

/** What every round's Job is built from: the launcher's flags. */
export interface AgentJobSettings {
  namespace: string;
  /** The image holding `eascmd-agent` (the project's Dockerfile builds it). */
  image: string;
  /** Names this controller in labels, so two controllers sharing a namespace never clean up each other's Jobs. */
  controllerName: string;
  /** Requests and limits of each agent container, e.g. { cpu: '1', memory: '512Mi' }. */
  requests: Record<string, string>;
  limits: Record<string, string>;
  /** A finished Job the controller could not delete (it died) is removed by the cluster after this long. */
  ttlSecondsAfterFinished: number;
  /** Optional pull secret and service account of the agent pods. */
  imagePullSecret?: string;
  serviceAccountName?: string;
}

/** The key of the round's Secret that holds the agents' token. */
export const TOKEN_KEY = 'token';
/** The env var the pod's own name reaches the agent by (the downward API): it is the agent's id. */
export const POD_NAME_ENV = 'EAS_BENCH_POD_NAME';
/** Agents stay; the controller replaces them, so the Job's own retry count only bounds a crash loop nobody watches. */
const BACKOFF_LIMIT = 1000;
/**
 * With completions unset, one agent that exits 0 (retired when the mode wants
 * fewer) would stop the Job from ever starting another pod; a count no round
 * reaches keeps parallelism the only knob.
 */
const COMPLETIONS = 1_000_000;

export const LABELS = {
  name: 'app.kubernetes.io/name',
  managedBy: 'app.kubernetes.io/managed-by',
  controller: 'eas-bench/controller',
  task: 'eas-bench/task',
  round: 'eas-bench/round',
} as const;
const AGENT_APP = 'eas-bench-agent';
const MANAGER = 'eas-bench-controller';

/** A label value: at most 63 characters of [a-z0-9A-Z-_.], starting and ending with an alphanumeric. */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (cleaned.length <= 63) return cleaned;
  return `${cleaned.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '')}-${shortHash(text)}`;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** Selects every object this controller made for agents. */
export function controllerSelector(settings: Pick<AgentJobSettings, 'controllerName'>): string {
  return `${LABELS.managedBy}=${MANAGER},${LABELS.controller}=${labelValue(settings.controllerName)}`;
}

/** Selects one round's Job, Secret and pods. */
export function roundSelector(settings: Pick<AgentJobSettings, 'controllerName'>, round: AgentRound): string {
  return `${controllerSelector(settings)},${LABELS.task}=${labelValue(round.taskName)},${LABELS.round}=${round.roundId}`;
}

export function roundLabels(settings: Pick<AgentJobSettings, 'controllerName'>, round: AgentRound): Record<string, string> {
  return {
    [LABELS.name]: AGENT_APP,
    [LABELS.managedBy]: MANAGER,
    [LABELS.controller]: labelValue(settings.controllerName),
    [LABELS.task]: labelValue(round.taskName),
    [LABELS.round]: String(round.roundId),
  };
}

/**
 * The name of a round's Job and of its Secret: a DNS label, short enough that
 * the pods' generated names (name + 6 characters) stay within 63, unique per
 * task and round (a hash of both when the task name is long).
 */
export function roundObjectName(round: AgentRound): string {
  const base = `eas-agents-${round.taskName.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${round.roundId}`.replace(/-+/g, '-');
  if (base.length <= 52) return base;
  return `eas-agents-${shortHash(`${round.taskName}/${round.roundId}`)}-${round.roundId}`;
}

/** The round's Secret: the one token all of its agents present, never written into the pod spec. */
export function renderRoundSecret(settings: AgentJobSettings, round: AgentRound, token: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: roundObjectName(round), namespace: settings.namespace, labels: roundLabels(settings, round) },
    type: 'Opaque',
    data: { [TOKEN_KEY]: Buffer.from(token, 'utf8').toString('base64') },
  };
}

/** The round's agents as one Job: `parallelism` pods of `eascmd-agent`, each dialing `controllerWsUrl` as its pod's name. */
export function renderAgentJob(settings: AgentJobSettings, round: AgentRound, controllerWsUrl: string, parallelism: number): V1Job {
  const name = roundObjectName(round);
  const labels = roundLabels(settings, round);
  const resources: V1ResourceRequirements = {};
  if (Object.keys(settings.requests).length) resources.requests = settings.requests;
  if (Object.keys(settings.limits).length) resources.limits = settings.limits;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: settings.namespace, labels },
    spec: {
      parallelism,
      completions: COMPLETIONS,
      backoffLimit: BACKOFF_LIMIT,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          // an agent needs nothing from the Kubernetes API
          automountServiceAccountToken: false,
          serviceAccountName: settings.serviceAccountName,
          imagePullSecrets: settings.imagePullSecret ? [{ name: settings.imagePullSecret }] : undefined,
          securityContext: { runAsNonRoot: true },
          containers: [
            {
              name: 'agent',
              image: settings.image,
              command: ['eascmd-agent'],
              // $(VAR) is expanded by the kubelet from the container's env
              args: ['--controller', controllerWsUrl, '--agent-id', `$(${POD_NAME_ENV})`],
              env: [
                { name: POD_NAME_ENV, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: AGENT_TOKEN_ENV, valueFrom: { secretKeyRef: { name, key: TOKEN_KEY } } },
              ],
              resources,
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}
