import { LocalServer, startLocalServer } from '../local-server';

/**
 * The answer the agent's own stream server sends: three content chunks (in
 * the chat and the completions shape at once, so either API's reading runs),
 * a finish with usage, and [DONE].
 */
const LOOPBACK_ANSWER = [
  ...[' warm', ' up', ' only'].map((content) => ({ choices: [{ index: 0, delta: { content }, text: content, finish_reason: null }] })),
  { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 3 } },
]
  .map((event) => `data: ${JSON.stringify(event)}\n\n`)
  .concat('data: [DONE]\n\n')
  .join('');

/**
 * A stream server inside the agent, which `prepare` sends a few requests to
 * before the first measured one. The HTTP client compiles its parser on its
 * first connection and the send and read paths run cold the first times
 * (some 10 ms in all): paid here, the first requests to the service leave
 * and are read on time.
 */
export function startLoopbackStream(): Promise<LocalServer> {
  return startLocalServer(LOOPBACK_ANSWER, 'text/event-stream');
}
