/**
 * Log cursors: where a line stands in a container's output, `<ns since the epoch>.<index among
 * the lines of that ns>` (digits only). The agent resumes after one; the logs service drops lines
 * at or before a stream's. Compared without BigInt (this runs once per shipped line).
 */
/** -1, 0, 1 as cursor `a` is before, at or after `b` (undefined is before everything): by length, then as text. */
export function compareCursors(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  const ad = a.indexOf('.');
  const bd = b.indexOf('.');
  if (ad !== bd) return ad < bd ? -1 : 1;
  const an = a.slice(0, ad);
  const bn = b.slice(0, bd);
  if (an !== bn) return an < bn ? -1 : 1;
  return Math.sign(Number(a.slice(ad + 1)) - Number(b.slice(bd + 1)));
}

