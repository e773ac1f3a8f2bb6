import * as path from 'node:path';
import { ESLint, Linter } from 'eslint';
import { ROOT } from '../helpers/processes';

/** The layer walls are checked on resolved paths, at any depth of nesting. */
describe('lint walls', () => {
  // the config is loaded here rather than by ESLint, whose dynamic import jest's module loader does not support
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require(path.join(ROOT, 'eslint.config.js')) as Linter.Config[];
  const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: config });
  const wallErrors = async (filePath: string, code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath });
    return result.messages.filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => m.message);
  };

  test('a deep upward import from controller/agent/llm/ into tasks/ is refused', async () => {
    const errors = await wallErrors('controller/agent/llm/probe.ts', "import { TaskManager } from '../../tasks/manager';\nexport type T = TaskManager;\n");
    expect(errors.join('\n')).toMatch(/the agent process never touches storage or the API/);
  });

  test('one level up is refused too, and an import the layers allow passes', async () => {
    expect(await wallErrors('controller/storage/probe.ts', "import { TaskStore } from '../tasks/store';\nexport type T = TaskStore;\n")).toHaveLength(1);
    expect(await wallErrors('controller/tasks/probe.ts', "import { TaskStore } from './store';\nimport { BenchError } from '../../src/contract';\nexport type T = TaskStore | BenchError;\n")).toEqual([]);
  });

  test('the client cannot reach into the controller, and the contract imports nothing of the project', async () => {
    expect(await wallErrors('src/cli/probe.ts', "import { createController } from '../../controller/app';\nexport const c = createController;\n")).toHaveLength(1);
    expect(await wallErrors('src/contract/probe.ts', "import { renderTable } from '../output/table';\nexport const f = renderTable;\n")).toHaveLength(1);
  });
});
