import { invalidParameter } from './errors.js';

/** maxResults as ECS checks it: 1..limit, default limit. */
export function pageSize(maxResults: number | undefined, limit: number): number {
  if (maxResults === undefined) return limit;
  if (maxResults < 1 || maxResults > limit) throw invalidParameter(`maxResults must be between 1 and ${limit}.`);
  return maxResults;
}
