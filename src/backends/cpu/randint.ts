/**
 * jax.random.randint's combine step on the host, in exact arithmetic: JAX draws two words h, l
 * per value and returns (h mod span · (2^w mod span) + l mod span) mod span, in uint32 (w = 32,
 * where the product wraps mod 2^32) or uint64 (w = 64, where nothing wraps for span <= 2^32).
 * span 0 stands for 2^32 (JAX's span wraps to 0 and its remainders then have no effect).
 */

/** a·b mod n for 0 <= a, b < n <= 2^32, exact in doubles (every partial product < 2^48). */
function mulmod(a: number, b: number, n: number): number {
  const hi = Math.floor(b / 65536);
  const lo = b % 65536;
  return ((((a * hi) % n) * 65536) % n + ((a * lo) % n)) % n;
}

/** The offset of draw i from bits words (width 32: one int32 each; width 64: [high, low] pairs). */
export function randintOffset(h: Int32Array, l: Int32Array, i: number, span: number, width: 32 | 64): number {
  if (width === 32) {
    if (span === 0) return l[i]! >>> 0;
    const m16 = 65536 % span;
    const mult = mulmod(m16, m16, span);
    // uint32 arithmetic as XLA's: imul keeps the low 32 bits of the product, >>> 0 wraps the sum
    return (((Math.imul((h[i]! >>> 0) % span, mult) >>> 0) + ((l[i]! >>> 0) % span)) >>> 0) % span;
  }
  const hh = h[2 * i]! >>> 0, hl = h[2 * i + 1]! >>> 0;
  const lh = l[2 * i]! >>> 0, ll = l[2 * i + 1]! >>> 0;
  if (span === 0) return ll;
  const c = 2 ** 32 % span; // 2^32 mod span
  const mod64 = (wh: number, wl: number) => (mulmod(wh % span, c, span) + (wl % span)) % span;
  const mult = mulmod(c, c, span); // 2^64 mod span
  return (mulmod(mod64(hh, hl), mult, span) + mod64(lh, ll)) % span;
}
