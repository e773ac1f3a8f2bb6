import { LlmSpec, ResolvedOptional } from '../../src/contract';
import { ModeContext, ModeDriver } from './base';
import { ManualMode } from './manual';
import { ScanMode } from './scan';
import { AutoMode } from './auto';
import { LlmMode } from './llm';

/** Adding a mode is adding a file and a line here. A task with an `llm` section always runs the LLM mode. */
export function createMode(optional: ResolvedOptional, ctx: ModeContext, llm?: LlmSpec): ModeDriver {
  if (llm) return new LlmMode(llm, optional, ctx);
  switch (optional.mode) {
    case 'manual':
      return new ManualMode(optional, ctx);
    case 'scan':
      return new ScanMode(optional, ctx);
    case 'auto':
      return new AutoMode(optional, ctx);
  }
}
