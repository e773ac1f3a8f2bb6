import * as fs from 'node:fs';
import * as path from 'node:path';
import { ESLint, Linter } from 'eslint';
import * as ts from 'typescript';
import { ROOT } from '../helpers/processes';

/** The walls between the programs and the layers are checked on resolved paths, at any depth of nesting. */
describe('lint walls', () => {
  // the config is loaded here rather than by ESLint, whose dynamic import jest's module loader does not support
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require(path.join(ROOT, 'eslint.config.js')) as Linter.Config[];
  const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: config });
  const ruleErrors = async (ruleId: string, filePath: string, code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath });
    return result.messages.filter((m) => m.ruleId === ruleId).map((m) => m.message);
  };
  const wallErrors = (filePath: string, code: string) => ruleErrors('import-x/no-restricted-paths', filePath, code);

  test('a deep upward import from the fleet into tasks/ is refused', async () => {
    const errors = await wallErrors('controller/fleet/kubernetes/probe.ts', "import { TaskManager } from '../../tasks/manager';\nexport type T = TaskManager;\n");
    expect(errors.join('\n')).toMatch(/the fleet sits below modes/);
  });

  test('one level up is refused too, and an import the layers allow passes', async () => {
    expect(await wallErrors('controller/storage/probe.ts', "import { TaskStore } from '../tasks/store';\nexport type T = TaskStore;\n")).toHaveLength(1);
    expect(await wallErrors('controller/tasks/probe.ts', "import { TaskStore } from './store';\nimport { BenchError } from '../../src/contract';\nexport type T = TaskStore | BenchError;\n")).toEqual([]);
  });

  test("the controller's root files sit below every layer, and nothing imports its wiring", async () => {
    // the arrow that ran back up: fleet -> credentials.ts -> tasks/store
    expect((await wallErrors('controller/credentials.ts', "import { TaskStore } from './tasks/store';\nexport type T = TaskStore;\n")).join('\n')).toMatch(/root files sit below every layer/);
    expect(await wallErrors('controller/fleet/probe.ts', "import { createController } from '../app';\nexport const c = createController;\n")).toHaveLength(1);
    expect(await wallErrors('controller/fleet/probe.ts', "import { ControllerOptions } from '../config';\nimport { writeFileAtomic } from '../storage/no-follow';\nexport type T = ControllerOptions;\nexport const w = writeFileAtomic;\n")).toEqual([]);
  });

  test('the agent is its own program: no import of the controller, and the controller never imports it', async () => {
    expect((await wallErrors('agent/llm/probe.ts', "import { TaskManager } from '../../controller/tasks/manager';\nexport type T = TaskManager;\n")).join('\n')).toMatch(/the agent is its own program/);
    expect(await wallErrors('controller/fleet/probe.ts', "import { HttpWorkload } from '../../agent/http-workload';\nexport const w = HttpWorkload;\n")).toHaveLength(1);
    expect(await wallErrors('agent/probe.ts', "import { LlmSecondRecorder } from '../src/measure/llm-second';\nimport { AGENT_LIMITS } from '../src/contract';\nexport const r = [LlmSecondRecorder, AGENT_LIMITS];\n")).toEqual([]);
  });

  test('the client reaches neither the controller nor the agent; the shared ground imports nothing above it', async () => {
    expect(await wallErrors('src/cli/probe.ts', "import { createController } from '../../controller/app';\nexport const c = createController;\n")).toHaveLength(1);
    expect(await wallErrors('src/cli/probe.ts', "import { HttpWorkload } from '../../agent/http-workload';\nexport const w = HttpWorkload;\n")).toHaveLength(1);
    expect(await wallErrors('src/contract/probe.ts', "import { renderTable } from '../output/table';\nexport const f = renderTable;\n")).toHaveLength(1);
    expect(await wallErrors('src/contract/probe.ts', "import { LlmSecondRecorder } from '../measure/llm-second';\nexport const r = LlmSecondRecorder;\n")).toHaveLength(1);
    expect((await wallErrors('src/measure/probe.ts', "import { RoundAccumulator } from '../../controller/metrics/aggregate';\nexport const a = RoundAccumulator;\n")).join('\n')).toMatch(/src\/measure imports only src\/contract/);
  });

  test('two files that import each other are refused', async () => {
    // http-workload.ts imports ClosedLoop: closed-loop.ts taking HttpWorkload back closes the circle the agent once had
    const code = "import { HttpWorkload } from './http-workload';\nexport const w = HttpWorkload;\n";
    expect(await ruleErrors('import-x/no-cycle', 'agent/closed-loop.ts', code)).toHaveLength(1);
    expect(await ruleErrors('import-x/no-cycle', 'agent/probe.ts', code)).toEqual([]);
  });
});

/** Every .ts file of the built programs, as paths relative to the root. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(rel);
    return entry.name.endsWith('.ts') ? [rel] : [];
  });
}

/** The circles of the import graph (strongly connected components of more than one file, or a file importing itself). */
function importCircles(files: string[], importsOf: (file: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of importsOf(file)) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || importsOf(file).includes(file)) circles.push(component.sort());
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return circles;
}

describe('import graph', () => {
  test('no files import each other in a circle, type-only imports included (which import-x/no-cycle skips)', () => {
    const files = ['src', 'controller', 'agent', 'fixtures'].flatMap(sourceFiles);
    const known = new Set(files);
    const options: ts.CompilerOptions = { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, resolveJsonModule: true };
    const importsOf = (file: string): string[] =>
      ts
        .preProcessFile(fs.readFileSync(path.join(ROOT, file), 'utf8'), true, true)
        .importedFiles.filter((ref) => ref.fileName.startsWith('.'))
        .map((ref) => ts.resolveModuleName(ref.fileName, path.join(ROOT, file), options, ts.sys).resolvedModule?.resolvedFileName)
        .filter((resolved): resolved is string => resolved !== undefined)
        .map((resolved) => path.relative(ROOT, resolved))
        .filter((rel) => known.has(rel));
    const graph = new Map(files.map((file) => [file, importsOf(file)]));
    expect(graph.get(path.join('agent', 'closed-loop.ts'))).toContain(path.join('agent', 'load-driver.ts'));
    expect(importCircles(files, (file) => graph.get(file) ?? [])).toEqual([]);
  });
});
