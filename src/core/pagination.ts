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
