import { HOLD_JUDGED_S } from '../../controller/modes/stepped';
import { QUEUE_CAPACITY, useModeServices } from '../helpers/scan-auto';

/**
 * The mode against a service of known capacity.
 * @runAlone: its bound is the service's, not the machine's; with the suite beside it such files failed
 * their bounds in fresh-clone runs (README.md, "Run the tests").
 */
describe('auto against a service of known capacity, without maxRT', () => {
  const { queueUrl, runUntilHeld } = useModeServices({ queue: true });

  test('auto without maxRT stops growing on saturation', async () => {
    // stopped once the held rate has been judged again: the capacity is what the search found and the hold kept;
    // the duration only bounds a search that a busy machine slows (at load 15 on 2 cores, 75 s did not suffice)
    const { detail } = await runUntilHeld({ service: { serviceName: 'queue', url: `${queueUrl()}/predict` }, optional: { maxQPS: 2000, duration: 120 } }, HOLD_JUDGED_S);
    expect(detail.Capacity?.Reason).toBe('saturation');
    expect(Math.abs(detail.Capacity!.QPS - QUEUE_CAPACITY) / QUEUE_CAPACITY).toBeLessThanOrEqual(0.1);
  }, 200_000);
});
