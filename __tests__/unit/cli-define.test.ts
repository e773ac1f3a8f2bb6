import { expandDefineArgs } from '../../src/cli/argv';
import { updateFromDefines } from '../../src/cli/update';
import { InvalidFieldError } from '../../src/contract';

describe('cli -D parsing', () => {
  test('-Dkey=value glued to the flag is split before yargs sees it (yargs would read -D -o -p -t ...)', () => {
    expect(expandDefineArgs(['bench', 'update', 'n', '-Doptional.concurrency=4', '-Doptional.agentCount=2'])).toEqual([
      'bench',
      'update',
      'n',
      '-D',
      'optional.concurrency=4',
      '-D',
      'optional.agentCount=2',
    ]);
    expect(expandDefineArgs(['-D=optional.x=1'])).toEqual(['-D', 'optional.x=1']);
    expect(expandDefineArgs(['-D', 'optional.x=1'])).toEqual(['-D', 'optional.x=1']);
  });

  test('nothing after -- is touched', () => {
    expect(expandDefineArgs(['a', '--', '-Dx=1'])).toEqual(['a', '--', '-Dx=1']);
  });

  test('defines become the update body, with numbers and booleans typed', () => {
    expect(updateFromDefines(['optional.concurrency=4', 'optional.agentCount=2'])).toEqual({ concurrency: 4, agentCount: 2 });
    expect(updateFromDefines(['optional.faultTolerate=0.01', 'optional.faultAction=stop'])).toEqual({ faultTolerate: 0.01, faultAction: 'stop' });
  });

  test('malformed defines are InvalidField errors naming the field', () => {
    expect(() => updateFromDefines(['optional.concurrency'])).toThrow(InvalidFieldError);
    expect(() => updateFromDefines(['optional.concurrency='])).toThrow('optional.concurrency: needs a value');
    expect(() => updateFromDefines(['data.path=x'])).toThrow('data.path: only optional.* fields can be updated');
  });
});
