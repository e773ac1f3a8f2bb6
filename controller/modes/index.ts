import { LlmSpec, ResolvedOptional } from '../../src/contract';
import { ModeContext, ModeDriver, TaskMode } from './base';
import { manualTaskMode } from './manual';
import { ScanMode, scanDurationWarning } from './scan';
import { AutoMode, autoDurationWarning } from './auto';
import { llmTaskMode } from './llm';
import { steppedTaskMode } from './stepped';
import { stagesTaskMode } from './stages';
import { replayTaskMode } from './replay';
import type { ReplayPlan } from '../data/replay';

/** Adding a mode is adding a file and a line here. A task with an `llm` section always runs the LLM mode. */
export function taskMode(optional: ResolvedOptional, llm?: LlmSpec, replay?: ReplayPlan): TaskMode {
  if (llm) return llmTaskMode(llm, optional);
  switch (optional.mode) {
    case 'manual':
      return manualTaskMode(optional);
    case 'scan':
      return steppedTaskMode('scan', (ctx) => new ScanMode(optional, ctx), () => scanDurationWarning(optional));
    case 'auto':
      return steppedTaskMode('auto', (ctx) => new AutoMode(optional, ctx), () => autoDurationWarning(optional));
    case 'stages':
      // validation guarantees the stages of a stages task
      if (!optional.stages) throw new Error('a stages task without stages');
      return stagesTaskMode(optional, optional.stages);
    case 'replay':
      return replayTaskMode(optional, replay);
  }
}

export function createMode(optional: ResolvedOptional, ctx: ModeContext, llm?: LlmSpec, replay?: ReplayPlan): ModeDriver {
  return taskMode(optional, llm, replay).create(ctx);
}
