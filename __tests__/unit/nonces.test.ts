import { NonceMemory } from '../../controller/nonces';

describe('NonceMemory', () => {
  test('a nonce is refused again until its date expires, then forgotten', () => {
    const nonces = new NonceMemory(10);
    expect(nonces.remember('a', 1000, 0)).toBe('new');
    expect(nonces.seen('a', 999)).toBe(true);
    expect(nonces.remember('a', 1000, 500)).toBe('seen');
    expect(nonces.seen('a', 1001)).toBe(false);
  });

  test('when full it refuses new nonces rather than evicting live ones, and makes room as they expire', () => {
    const nonces = new NonceMemory(3);
    expect([nonces.remember('a', 1000, 0), nonces.remember('b', 3000, 0), nonces.remember('c', 3000, 0)]).toEqual(['new', 'new', 'new']);
    expect(nonces.remember('d', 5000, 10)).toBe('full');
    // every live nonce is still refused: none was evicted to make room
    expect(['a', 'b', 'c'].map((n) => nonces.remember(n, 9999, 20))).toEqual(['seen', 'seen', 'seen']);
    expect(nonces.remember('d', 5000, 1010)).toBe('new');
    expect(nonces.size).toBe(3);
    expect(nonces.seen('b', 1010)).toBe(true);
  });
});
