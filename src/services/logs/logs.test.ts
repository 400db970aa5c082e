import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogEventStore } from './event-store.js';
import { LogsDomain } from './logs.js';

const scope = { accountId: '000000000000', region: 'us-east-1' };
const now = 1_800_000_000_000;

describe('FilterLogEvents paging over a large group (in-memory store)', () => {
  const store = new LogEventStore(':memory:');
  const domain = new LogsDomain(store, { now: () => now / 1000 });
  domain.createGroup(scope, { logGroupName: 'g' });
  for (const s of ['a', 'b', 'c']) domain.createStream(scope, 'g', s);
  const total = 120_000;
  const g = store.group('us-east-1', 'g')!;
  for (let i = 0; i < total; i += 10_000) {
    for (const [k, s] of ['a', 'b', 'c'].entries()) {
      const st = store.stream(g.id, s)!;
      const rows = [];
      for (let j = i + k; j < i + 10_000; j += 3) rows.push({ ts: now - 3_600_000 + Math.floor(j / 4), message: j === 110_001 ? `needle ${j}` : `event ${j}` });
      store.append(g.id, st.id, rows, now);
    }
  }

  it('pages through every event once, in time order, across the scan slices', () => {
    const seen: string[] = [];
    let token: string | undefined;
    let calls = 0;
    do {
      const r = domain.filterEvents(scope, { logGroupName: 'g', limit: 7000, nextToken: token });
      seen.push(...r.events.map((e) => e.message));
      token = r.nextToken;
      calls++;
    } while (token && calls < 100);
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
    const ids = seen.map((m) => Number(m.split(' ')[1]));
    for (let i = 1; i < ids.length; i++) assert.ok(Math.floor(ids[i]! / 4) >= Math.floor(ids[i - 1]! / 4), `time order at ${i}`);
  });

  it('finds a rare term with the SQL pre-filter, and a time window bounds the scan', () => {
    const r = domain.filterEvents(scope, { logGroupName: 'g', filterPattern: 'needle' });
    assert.deepEqual(r.events.map((e) => [e.message, e.logStreamName]), [['needle 110001', 'b']]);
    assert.equal(r.nextToken, undefined);
    const windowed = domain.filterEvents(scope, { logGroupName: 'g', startTime: now - 3_600_000, endTime: now - 3_600_000 + 9 });
    assert.equal(windowed.events.length, 40);
  });

  it('retention deletes old events and keeps the rest', () => {
    const st = store.stream(g.id, 'a')!;
    store.append(g.id, st.id, [{ ts: now - 3 * 86_400_000, message: 'ancient' }], now);
    const before = store.count();
    domain.putRetention(scope, 'g', 1);
    assert.equal(domain.applyRetention(), 1);
    assert.equal(store.count(), before - 1);
    assert.equal(domain.filterEvents(scope, { logGroupName: 'g', filterPattern: 'ancient' }).events.length, 0);
  });
});
