/** Who may reset: only the account's root, or anyone in accept-any-credentials mode (no verification at all). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rootCaller, type Caller } from '../iam/principal.js';
import { mayReset } from './reset.js';

it('admits the root and accept-any callers, refuses IAM users, role sessions and internal callers', () => {
  const account = '123456789012';
  const base = { accountId: account, userId: 'AIDAEXAMPLE' };
  const callers: [Caller, boolean][] = [
    [rootCaller(account, 'AKIAROOT'), true],
    [{ ...base, kind: 'trusted', arn: `arn:aws:iam::${account}:root` }, true],
    [{ ...base, kind: 'user', arn: `arn:aws:iam::${account}:user/ci` }, false],
    [{ ...base, kind: 'assumed-role', arn: `arn:aws:sts::${account}:assumed-role/admin/s`, roleArn: `arn:aws:iam::${account}:role/admin` }, false],
    [{ ...base, kind: 'internal', arn: `arn:aws:iam::${account}:root` }, false],
  ];
  for (const [caller, allowed] of callers) assert.equal(mayReset(caller), allowed, caller.kind);
});
