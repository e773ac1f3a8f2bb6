import { ResolvedOptional } from '../../src/contract';
import { ModeContext, ModeDriver } from './base';
import { ManualMode } from './manual';
import { ScanMode } from './scan';
import { AutoMode } from './auto';

/** Adding a mode is adding a file and a line here. */
export function createMode(optional: ResolvedOptional, ctx: ModeContext): ModeDriver {
  switch (optional.mode) {
    case 'manual':
      return new ManualMode(optional, ctx);
    case 'scan':
      return new ScanMode(optional, ctx);
    case 'auto':
      return new AutoMode(optional, ctx);
  }
}
