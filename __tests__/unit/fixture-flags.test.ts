import { parseArgs as openAiArgs } from '../../fixtures/openai-service';
import { parseArgs as targetArgs } from '../../fixtures/target-service';

/** The fixture services' command lines: one flag parser, each service's own flags and checks. */
describe('fixture service flags', () => {
  test('target-service: address and behaviour, as `--flag V` or `--flag=V`', () => {
    expect(targetArgs(['--port', '0', '--host=0.0.0.0', '--latency-ms', '5', '--error-rate=0.25', '--body-bytes', '10'])).toEqual({ port: 0, host: '0.0.0.0', latencyMs: 5, errorRate: 0.25, bodyBytes: 10 });
    expect(targetArgs([])).toEqual({});
  });

  test('openai-service: its own flags and the --no-usage switch', () => {
    expect(openAiArgs(['--ttft-ms=20', '--no-usage', '--tpot-ms', '2', '--port', '8080'])).toEqual({ port: 8080, ttftMs: 20, usage: false, tpotMs: 2 });
  });

  test.each([
    ['target', ['--latency-ms'], '--latency-ms needs a value'],
    ['target', ['--ttft-ms', '1'], 'unknown flag --ttft-ms'],
    ['target', ['--error-rate', '2'], 'errorRate must be between 0 and 1'],
    ['openai', ['--latency-ms', '1'], 'unknown flag --latency-ms'],
    ['openai', ['--tokens-per-chunk', '0'], 'tokensPerChunk must be >= 1'],
    ['openai', ['--port', '70000'], '--port must be an integer 0..65535'],
    ['target', ['--port=-1'], '--port must be an integer 0..65535'],
  ])('%s %j is refused: %s', (service, argv, message) => {
    const parse = service === 'target' ? targetArgs : openAiArgs;
    expect(() => parse(argv)).toThrow(message);
  });
});
