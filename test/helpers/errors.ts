/** The error an SDK call rejects with; fails the test when it resolves. */
import assert from 'node:assert/strict';

export async function errorOf(p: Promise<unknown>): Promise<Error & { name: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { name: string; $metadata: { httpStatusCode?: number } };
  }
  assert.fail('expected an error');
}
