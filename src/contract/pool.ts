import { createHmac } from 'node:crypto';
import { describeType, isCount, isName, isObject, parseJson } from './field-checks';
import { AGENT_LIMITS } from './agent-limits';
import { isNonce, MAX_DATE_AGE_MS, MAX_DATE_AHEAD_MS, newNonce, signaturesEqual } from './signing';

/**
 * The pool's side of the agents' websocket (`--agent-launcher pool`). A pool
 * agent runs on any host, dials the controller's agents endpoint and proves
 * it may join with a hello signed by an API key (key id, nonce, time: never
 * the secret). Then it waits: when a round needs an agent, the controller
 * hands it a seat (the seat's agent id and own secret), the agent opens an
 * ordinary agent connection for it, and when that ends it says so and waits
 * again.
 */

/** What a pool agent says first: who it is, and a signature that it holds the key's secret. */
export interface PoolHello {
  type: 'pool-hello';
  version: number;
  keyId: string;
  agentId: string;
  host: string;
  pid: number;
  /** 128 random bits, hex: the controller refuses a hello it has seen. */
  nonce: string;
  /** ISO-8601; within the API's clock-skew window of the controller's clock. */
  time: string;
  /** hex(HMAC-SHA256(secret, poolHelloString(...))). */
  signature: string;
}

export type PoolAgentToController = PoolHello | { type: 'seat-ended'; agentId: string };

export type ControllerToPoolAgent =
  /**
   * Joined: the controller knows the agent as `agentId`, and pings its link
   * every `heartbeatMs`. A link that misses a ping's answer is dropped by the
   * controller; one that hears no ping for three periods is dropped and
   * dialled again by the agent: a host that died or a network that broke
   * without a close is found either way.
   */
  | { type: 'welcome'; agentId: string; heartbeatMs: number }
  /** Serve a round: connect as `agentId` with `token`, that seat's own secret, to the same agents URL. */
  | { type: 'seat'; agentId: string; token: string; taskName: string; roundId: number }
  /** Leave the seat (the round wants fewer agents, or it ended): stop and close its connection. */
  | { type: 'release'; agentId: string; reason: string };

/** What the signature covers: the key, who the agent says it is, and the nonce and time that make the hello unrepeatable. */
export function poolHelloString(keyId: string, agentId: string, host: string, nonce: string, time: string): string {
  return `EAS-POOL-HELLO\n${keyId}\n${agentId}\n${host}\n${nonce}\n${time}`;
}

function poolHelloSignature(secret: string, hello: Pick<PoolHello, 'keyId' | 'agentId' | 'host' | 'nonce' | 'time'>): string {
  return createHmac('sha256', secret).update(poolHelloString(hello.keyId, hello.agentId, hello.host, hello.nonce, hello.time)).digest('hex');
}

/** A fresh signed hello: a new nonce and the current time each time the agent (re)connects. */
export function signPoolHello(
  key: { id: string; secret: string },
  who: { agentId: string; host: string; pid: number; version: number },
  now = new Date(),
): PoolHello {
  const unsigned = { keyId: key.id, agentId: who.agentId, host: who.host, nonce: newNonce(), time: now.toISOString() };
  return { type: 'pool-hello', version: who.version, pid: who.pid, ...unsigned, signature: poolHelloSignature(key.secret, unsigned) };
}

/**
 * Why a hello's signature and time are not acceptable, or undefined when they
 * are. The nonce is the caller's to remember (until `expiresMs`), since only
 * it holds the memory of nonces seen.
 */
export function checkPoolHello(hello: PoolHello, secret: string | undefined, nowMs: number): { refused: string } | { expiresMs: number } {
  const sentMs = Date.parse(hello.time);
  // one answer for an unknown key and a bad signature: nothing is learnt about which keys exist
  if (secret === undefined || !signaturesEqual(poolHelloSignature(secret, hello), hello.signature)) return { refused: 'bad pool signature' };
  if (!Number.isFinite(sentMs) || sentMs < nowMs - MAX_DATE_AGE_MS || sentMs > nowMs + MAX_DATE_AHEAD_MS) return { refused: 'pool hello time is outside the accepted clock skew' };
  return { expiresMs: sentMs + MAX_DATE_AGE_MS };
}

const HEX_SIGNATURE = /^[0-9a-f]{64}$/;

/** Parses a pool agent's frame; a string is why it was refused. */
export function parsePoolAgentMessage(text: string): PoolAgentToController | string {
  const value = parseJson(text);
  if (!isObject(value)) return 'not a JSON object';
  switch (value.type) {
    case 'pool-hello':
      if (!isCount(value.version)) return 'pool-hello.version must be a count';
      if (!isName(value.keyId, AGENT_LIMITS.idChars)) return 'pool-hello.keyId must be a name';
      if (!isName(value.agentId, AGENT_LIMITS.idChars)) return `pool-hello.agentId must be a name of 1 to ${AGENT_LIMITS.idChars} characters`;
      if (!isName(value.host, AGENT_LIMITS.idChars)) return `pool-hello.host must be a name of 1 to ${AGENT_LIMITS.idChars} characters`;
      if (!isCount(value.pid)) return 'pool-hello.pid must be a count';
      if (typeof value.nonce !== 'string' || !isNonce(value.nonce)) return 'pool-hello.nonce must be 32 hex digits';
      if (!isName(value.time, 64)) return 'pool-hello.time must be an ISO time';
      if (typeof value.signature !== 'string' || !HEX_SIGNATURE.test(value.signature)) return 'pool-hello.signature must be 64 hex digits';
      return {
        type: 'pool-hello',
        version: value.version,
        keyId: value.keyId,
        agentId: value.agentId,
        host: value.host,
        pid: value.pid,
        nonce: value.nonce,
        time: value.time,
        signature: value.signature,
      };
    case 'seat-ended':
      if (!isName(value.agentId, AGENT_LIMITS.idChars)) return 'seat-ended.agentId must be a name';
      return { type: 'seat-ended', agentId: value.agentId };
    default:
      return `unknown pool message type ${describeType(value.type)}`;
  }
}

/** Parses a controller's frame to a pool agent; a string is why it was ignored. */
export function parsePoolControllerMessage(text: string): ControllerToPoolAgent | string {
  const value = parseJson(text);
  if (!isObject(value)) return 'not a JSON object';
  switch (value.type) {
    case 'welcome':
      if (!isName(value.agentId, AGENT_LIMITS.idChars) || !isCount(value.heartbeatMs) || value.heartbeatMs === 0) return 'malformed welcome';
      return { type: 'welcome', agentId: value.agentId, heartbeatMs: value.heartbeatMs };
    case 'seat':
      if (!isName(value.agentId, AGENT_LIMITS.idChars) || !isName(value.token, AGENT_LIMITS.tokenChars)) return 'malformed seat';
      if (!isName(value.taskName, AGENT_LIMITS.idChars) || !isCount(value.roundId)) return 'malformed seat';
      return { type: 'seat', agentId: value.agentId, token: value.token, taskName: value.taskName, roundId: value.roundId };
    case 'release':
      if (!isName(value.agentId, AGENT_LIMITS.idChars)) return 'malformed release';
      return { type: 'release', agentId: value.agentId, reason: typeof value.reason === 'string' ? value.reason : '' };
    default:
      return `unknown pool message type ${describeType(value.type)}`;
  }
}

/** Whether a frame's text is a pool hello: the hub's one look before choosing which parser reads it. */
export function isPoolHelloText(text: string): boolean {
  const value = parseJson(text);
  return isObject(value) && value.type === 'pool-hello';
}
