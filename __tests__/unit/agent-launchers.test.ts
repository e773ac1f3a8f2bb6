import { createAgentLauncher } from '../../controller/fleet/launchers';
import { LocalAgentLauncher } from '../../controller/fleet/launcher';
import { AgentLauncherKind, defaultOptions } from '../../controller/config';
import { BenchError } from '../../src/contract';

/** `--agent-launcher` turned into a launcher: the one selection seam. */

const context = { log: () => undefined, credentials: { file: '/nonexistent/credentials.json', keys: new Map([['KEY', 'SECRET']]) } };

describe('createAgentLauncher', () => {
  test('local (the default) starts child processes, bounded by --max-agents-total', () => {
    const options = { ...defaultOptions(), maxAgentsTotal: 7 };
    expect(options.agentLauncher).toBe('local');
    const launcher = createAgentLauncher(options, context);
    expect(launcher).toBeInstanceOf(LocalAgentLauncher);
    expect(launcher.capacity).toBe(7);
  });

  test('an unknown kind is one clear error naming the flag', () => {
    const options = { ...defaultOptions(), agentLauncher: 'ssh' as AgentLauncherKind };
    expect(() => createAgentLauncher(options, context)).toThrow(BenchError);
    expect(() => createAgentLauncher(options, context)).toThrow('--agent-launcher must be local, pool or kubernetes, not "ssh"');
  });
});
