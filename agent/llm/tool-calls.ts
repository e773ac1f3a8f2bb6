import type { LlmToolOutcome } from '../../src/contract';

/**
 * The tool calls of a streamed chat answer: OpenAI sends each call's name and
 * arguments in pieces (`delta.tool_calls[{index, function: {name, arguments}}]`),
 * joined here by index. Only the text is kept: what a call says is the
 * service's business, whether it parses is ours.
 */
export class ToolCallText {
  private readonly calls = new Map<number, { name: string; args: string }>();

  /** Adds a chunk's tool-call pieces; returns their text (generated tokens, for TTFT and the chunk's token count). */
  add(choices: unknown): string {
    if (!Array.isArray(choices)) return '';
    let text = '';
    for (const choice of choices as ({ delta?: { tool_calls?: unknown } } | null)[]) {
      const calls = choice?.delta?.tool_calls;
      if (!Array.isArray(calls)) continue;
      for (const call of calls as ({ index?: unknown; function?: { name?: unknown; arguments?: unknown } } | null)[]) {
        if (!call) continue;
        const index = typeof call.index === 'number' ? call.index : 0;
        const entry = this.calls.get(index) ?? { name: '', args: '' };
        const name = typeof call.function?.name === 'string' ? call.function.name : '';
        const args = typeof call.function?.arguments === 'string' ? call.function.arguments : '';
        entry.name += name;
        entry.args += args;
        this.calls.set(index, entry);
        text += name + args;
      }
    }
    return text;
  }

  get list(): readonly { name: string; args: string }[] {
    return [...this.calls.values()];
  }
}

/** none: the answer called no tool; parsed: every call names a function and its arguments are a JSON object; else invalid. */
export function toolOutcome(calls: ToolCallText): LlmToolOutcome {
  const list = calls.list;
  if (list.length === 0) return 'none';
  for (const call of list) {
    if (!call.name) return 'invalid';
    try {
      const args: unknown = JSON.parse(call.args || '{}');
      if (typeof args !== 'object' || args === null || Array.isArray(args)) return 'invalid';
    } catch {
      return 'invalid';
    }
  }
  return 'parsed';
}
