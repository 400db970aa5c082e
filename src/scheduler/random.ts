/**
 * Seeded randomness. The scheduler may not touch Math.random(): the seed (e.g. the request
 * id) is hashed into a small PRNG so that a placement can be replayed exactly when debugging.
 */

/** A source of uniform random numbers. */
export interface Random {
  /** An integer in [0, bound). */
  below(bound: number): number;
}

/** FNV-1a over UTF-16 code units, then a murmur3-style finalizer to spread the bits. */
function hashSeed(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32: 32 bits of state, plenty for shuffling a few thousand instances. */
export function seededRandom(seed: string): Random {
  let state = hashSeed(seed);
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { below: (bound) => Math.floor(next() * bound) };
}

/**
 * The items in a seeded pseudo-random order: a random rotation walked with a random stride
 * coprime to the length. Not every permutation is reachable, but every item is equally likely
 * to come first, which is what breaking ties needs, and it costs no random draw per item.
 */
export function seededOrder(items: Int32Array, random: Random): Int32Array {
  const n = items.length;
  const order = new Int32Array(n);
  if (n === 0) return order;
  const start = random.below(n);
  let stride = 1 + random.below(n);
  while (gcd(stride, n) !== 1) stride = (stride % n) + 1;
  for (let k = 0, at = start; k < n; k++, at = (at + stride) % n) order[k] = items[at]!;
  return order;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
