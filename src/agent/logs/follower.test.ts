import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import { compareCursors, DockerLogParser, parseDockerTimestamp, sinceOf, type LogLine } from './docker-log-parser.js';
import { ContainerLogFollower } from './follower.js';
import { parseBufferSize } from './shipper.js';

/** One frame of Docker's multiplexed log stream. */
function frame(type: 1 | 2, payload: string): Buffer {
  const body = Buffer.from(payload);
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
}

const T0 = Date.parse('2026-11-30T12:00:00Z');
const ts = (i: number) => new Date(T0 + Math.floor(i / 1000)).toISOString().replace(/\.\d{3}Z$/, '') + '.' + String((i % 1000) * 1000 + (T0 % 1000) * 1_000_000).padStart(9, '0') + 'Z';

describe('Docker log stream parsing', () => {
  it('reads frames split anywhere, with timestamps and cursors', () => {
    const p = new DockerLogParser();
    const data = Buffer.concat([frame(1, '2026-11-30T12:00:00.000000001Z hello\n'), frame(2, '2026-11-30T12:00:00.000000001Z same ns\n'), frame(1, '2026-11-30T12:00:01.5Z later\n')]);
    const lines: LogLine[] = [];
    for (let i = 0; i < data.length; i += 5) lines.push(...p.push(data.subarray(i, i + 5)));
    assert.deepEqual(
      lines.map((l) => [l.message, l.cursor, l.timestamp]),
      [
        ['hello', `${BigInt(T0) * 1_000_000n + 1n}.0`, T0],
        ['same ns', `${BigInt(T0) * 1_000_000n + 1n}.1`, T0],
        ['later', `${BigInt(T0 + 1500) * 1_000_000n}.0`, T0 + 1500],
      ],
    );
  });

  it('joins a line Docker split into partial frames, and keeps cursors from going backwards', () => {
    const p = new DockerLogParser();
    const lines = p.push(Buffer.concat([frame(1, '2026-11-30T12:00:00.2Z part one, '), frame(1, '2026-11-30T12:00:00.3Z part two\n'), frame(2, '2026-11-30T12:00:00.1Z earlier stamp\n')]));
    assert.deepEqual(lines.map((l) => l.message), ['part one, part two', 'earlier stamp']);
    assert.equal(compareCursors(lines[1]!.cursor, lines[0]!.cursor), 1);
  });

  it('refuses data that is not Docker framing', () => {
    assert.throws(() => new DockerLogParser().push(Buffer.from('2026-11-30T12:00:00Z raw tty output\n')));
  });

  it('timestamps, cursors and since', () => {
    assert.equal(parseDockerTimestamp('2026-11-30T12:00:00.123456789Z'), BigInt(T0) * 1_000_000n + 123_456_789n);
    assert.equal(parseDockerTimestamp('nonsense'), undefined);
    assert.equal(compareCursors('10.2', '9.5'), 1);
    assert.equal(compareCursors('10.2', '10.10'), -1);
    assert.equal(compareCursors(undefined, '1.0'), -1);
    assert.equal(sinceOf(undefined), '0');
    assert.equal(sinceOf('1700000000123456789.3'), '1700000000.113456789');
  });

  it('reads Docker size notation', () => {
    assert.equal(parseBufferSize('1m'), 1024 * 1024);
    assert.equal(parseBufferSize('512k'), 512 * 1024);
    assert.equal(parseBufferSize('2048'), 2048);
    assert.equal(parseBufferSize('1g'), 1024 ** 3);
    assert.equal(parseBufferSize('lots'), undefined);
    assert.equal(parseBufferSize('5g'), undefined);
  });
});

/** A container's output as Docker would stream it: `count` lines of `size` bytes, generated lazily. */
function output(count: number, size: number, from = 0): Readable {
  let i = from;
  const pad = 'x'.repeat(Math.max(0, size - 12));
  return new Readable({
    read() {
      const chunks: Buffer[] = [];
      for (let k = 0; k < 64 && i < count; k++, i++) chunks.push(frame(1, `${ts(i)} ${String(i).padStart(10, '0')} ${pad}\n`));
      this.push(chunks.length ? Buffer.concat(chunks) : null);
    },
  });
}

const quiet = { warn() {} };

describe('ContainerLogFollower', () => {
  it('ships every line once, in order, resuming after its checkpoint', async () => {
    const got: string[] = [];
    let checkpoint: string | undefined;
    const make = (count: number) =>
      new ContainerLogFollower({
        mode: 'blocking',
        maxBufferBytes: 64 * 1024,
        open: async (since) => {
          // Docker's `since` is inclusive and a little early here: lines before the checkpoint come again and must be skipped.
          const sec = Number(since.split('.')[0]) * 1000;
          const first = Math.max(0, (sec - T0) * 1000 - 5);
          return output(count, 40, first);
        },
        ship: async (events) => {
          got.push(...events.map((e) => e.message.slice(0, 10)));
        },
        resumeAfter: async () => checkpoint,
        saveCheckpoint: (c) => (checkpoint = c),
        exited: async () => true,
        log: quiet,
      });
    await make(2500).done;
    assert.equal(got.length, 2500);
    await make(5000).done; // the same container, more output: only the new lines
    assert.deepEqual(got, Array.from({ length: 5000 }, (_, i) => String(i).padStart(10, '0')));
  });

  it('reads the rest without following when Docker ends the follow stream early at the container\'s exit', async () => {
    const got: string[] = [];
    const follower = new ContainerLogFollower({
      mode: 'blocking',
      maxBufferBytes: 64 * 1024,
      open: async (_since, _signal, follow) => output(follow ? 400 : 1000, 40),
      ship: async (events) => {
        got.push(...events.map((e) => e.message.slice(0, 10)));
      },
      resumeAfter: async () => undefined,
      saveCheckpoint: () => undefined,
      exited: async () => true,
      log: quiet,
    });
    await follower.done;
    assert.deepEqual(got, Array.from({ length: 1000 }, (_, i) => String(i).padStart(10, '0')));
  });

  it('gives up reading a container that was removed, after a few attempts', async () => {
    let opens = 0;
    const follower = new ContainerLogFollower({
      mode: 'blocking',
      maxBufferBytes: 64 * 1024,
      open: async () => {
        opens++;
        throw new Error('no such container');
      },
      ship: async () => undefined,
      resumeAfter: async () => undefined,
      saveCheckpoint: () => undefined,
      exited: async () => true,
      log: quiet,
    });
    await follower.done;
    assert.ok(opens >= 3 && opens <= 5, `${opens} attempts`);
  });

  it('100 MB of output with a slow shipper: the buffer never exceeds max-buffer-size and the heap stays flat (blocking)', async (t) => {
    const max = 1024 * 1024;
    const lineSize = 1000;
    const count = 100 * 1024; // ~100 MB
    let highest = 0;
    let shipped = 0;
    let calls = 0;
    let retainedPeak = 0;
    // What the follower holds, not garbage not yet collected: the heap measured right after a full GC.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const follower: ContainerLogFollower = new ContainerLogFollower({
      mode: 'blocking',
      maxBufferBytes: max,
      open: async () => output(count, lineSize),
      ship: async (events) => {
        highest = Math.max(highest, follower.bufferedBytes);
        shipped += events.length;
        if (++calls % 10 === 0) {
          gc();
          retainedPeak = Math.max(retainedPeak, process.memoryUsage().heapUsed);
        }
        await new Promise((r) => setImmediate(r)); // a control plane slower than the producer
      },
      resumeAfter: async () => undefined,
      saveCheckpoint: () => undefined,
      exited: async () => true,
      log: quiet,
    });
    await follower.done;
    assert.equal(shipped, count, 'nothing dropped in blocking mode');
    assert.ok(highest <= max, `buffered at most ${highest} bytes (max ${max})`);
    // The buffer (1 MiB, as UTF-16 strings up to 2 MiB) plus the batch in flight and stream buffers: far below the 100 MB that went through.
    t.diagnostic(`${shipped} lines (${((count * lineSize) / 1048576).toFixed(0)} MiB) in ${calls} batches; buffer peak ${highest} bytes; retained heap growth ${((retainedPeak - heapBefore) / 1048576).toFixed(1)} MiB`);
    assert.ok(calls >= 10, `${calls} batches`);
    assert.ok(retainedPeak - heapBefore < 16 * 1024 * 1024, `retained heap grew by ${((retainedPeak - heapBefore) / 1048576).toFixed(1)} MiB`);
  });

  it('non-blocking mode drops what does not fit instead of waiting', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let shipped = 0;
    const follower: ContainerLogFollower = new ContainerLogFollower({
      mode: 'non-blocking',
      maxBufferBytes: 64 * 1024,
      open: async () => output(10_000, 100),
      ship: async (events) => {
        await gate; // the control plane is unreachable until the whole output was read
        shipped += events.length;
      },
      resumeAfter: async () => undefined,
      saveCheckpoint: () => undefined,
      exited: async () => {
        release();
        return true;
      },
      log: quiet,
    });
    await follower.done;
    assert.ok(follower.dropped > 0, 'some lines dropped');
    assert.equal(shipped + follower.dropped, 10_000);
  });
});
