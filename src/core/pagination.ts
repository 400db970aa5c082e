/**
 * AWS-style pagination over an ordered list: `nextToken` is opaque to callers and names the
 * last item returned, so pages stay stable when items are added before the cursor.
 */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export class InvalidTokenError extends Error {}

export function paginate<T>(items: readonly T[], keyOf: (item: T) => string, maxResults: number, nextToken?: string): Page<T> {
  let start = 0;
  if (nextToken) {
    let after: string;
    try {
      after = (JSON.parse(Buffer.from(nextToken, 'base64url').toString('utf8')) as { after: string }).after;
    } catch {
      throw new InvalidTokenError('The nextToken is not valid.');
    }
    if (typeof after !== 'string') throw new InvalidTokenError('The nextToken is not valid.');
    const i = items.findIndex((item) => keyOf(item) === after);
    // The item the token names may have been deleted: continue after where it would sort.
    start = i >= 0 ? i + 1 : items.findIndex((item) => keyOf(item) > after);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + maxResults);
  const more = start + maxResults < items.length && page.length > 0;
  return {
    items: page,
    nextToken: more ? Buffer.from(JSON.stringify({ after: keyOf(page[page.length - 1]!) })).toString('base64url') : undefined,
  };
}

/**
 * Keyset pagination over a store index: the token carries the position (the ordering columns'
 * values) of the last item returned, and the next page is read with `after` from there. Unlike
 * an offset, a position stays right when items are inserted or removed before it, and reading a
 * page costs an index seek and `size + 1` rows, whatever the list's length.
 */
export type Position = readonly (string | number)[];

export function positionToken(position: Position): string {
  return Buffer.from(JSON.stringify({ after: position })).toString('base64url');
}

/**
 * The position a token names, checked against the types of the ordering columns. Tokens from
 * `paginate` ({after: "<key>"}) are accepted where the order is one text column.
 */
export function tokenPosition(token: string | undefined, types: readonly ('string' | 'number')[]): Position | undefined {
  if (!token) return undefined;
  let after: unknown;
  try {
    after = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown }).after;
  } catch {
    throw new InvalidTokenError('The nextToken is not valid.');
  }
  if (typeof after === 'string' && types.length === 1 && types[0] === 'string') return [after];
  if (!Array.isArray(after) || after.length !== types.length || after.some((v, i) => typeof v !== types[i] || (typeof v === 'number' && !Number.isFinite(v)))) {
    throw new InvalidTokenError('The nextToken is not valid.');
  }
  return after as Position;
}

/**
 * One page read through `fetch` (which returns up to `limit` items after `after`, in order):
 * asks for one item more than the page to learn whether a next page exists.
 */
export async function keysetPage<T>(
  fetch: (after: Position | undefined, limit: number) => Promise<T[]>,
  positionOf: (item: T) => Position,
  size: number,
  after: Position | undefined,
): Promise<Page<T>> {
  const rows = await fetch(after, size + 1);
  const items = rows.slice(0, size);
  return { items, nextToken: rows.length > size && items.length > 0 ? positionToken(positionOf(items[items.length - 1]!)) : undefined };
}
