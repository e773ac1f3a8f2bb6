import { FakeClock } from '../helpers/fake-clock';

/** The fake clock the round tests run on: exact, in order, and only when moved. */
describe('FakeClock', () => {
  test('fires what falls due in order of due time, then of setting, each at its own time', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    const note = (name: string) => () => fired.push(`${name}@${clock.nowMs()}`);
    clock.setTimeout(note('c'), 30);
    clock.setTimeout(note('a'), 10);
    clock.setTimeout(note('b'), 10);
    const every = clock.setInterval(note('i'), 12);
    clock.advance(29);
    expect(fired).toEqual(['a@1010', 'b@1010', 'i@1012', 'i@1024']);
    expect(clock.nowMs()).toBe(1029);
    clock.clearInterval(every);
    clock.advance(100);
    expect(fired.slice(4)).toEqual(['c@1030']);
    expect(clock.pendingTimers()).toBe(0);
  });

  test('a timer set by a firing timer fires in the same advance when it falls due within it; a cleared one never', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    const cleared = clock.setTimeout(() => fired.push(-1), 5);
    clock.setTimeout(() => {
      fired.push(clock.nowMs());
      clock.setTimeout(() => fired.push(clock.nowMs()), 4);
      clock.clearTimeout(cleared);
    }, 3);
    clock.advance(7);
    expect(fired).toEqual([3, 7]);
  });

  test('nothing moves on its own: a timer of 0 ms waits for the next advance, as a Node timer waits 1 ms', () => {
    const clock = new FakeClock(0);
    let fired = false;
    clock.setTimeout(() => (fired = true), 0);
    expect(fired).toBe(false);
    clock.advance(1);
    expect(fired).toBe(true);
  });
});
