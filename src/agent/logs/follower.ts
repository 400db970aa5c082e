/**
 * Follows one awslogs container's output and ships it in batches. Reading and shipping are two
 * loops joined by a buffer of at most `maxBufferBytes`: in `blocking` mode a full buffer stops
 * the reading (Docker's json-file on disk holds the rest, and the socket applies back-pressure),
 * in `non-blocking` mode lines that do not fit are dropped. After each accepted batch the cursor
 * is saved (checkpoint), so a restarted agent resumes where the control plane's copy ends.
 */
import { compareCursors, DockerLogParser, sinceOf, type LogLine } from './docker-log-parser.js';

export interface FollowerOptions {
  mode: 'blocking' | 'non-blocking';
  maxBufferBytes: number;
  /** Opens the container's output from Docker's `since`; `follow`: until the container stops, else what is there now. */
  open: (since: string, signal: AbortSignal, follow: boolean) => Promise<NodeJS.ReadableStream>;
  /** Ships a batch; resolves once the control plane stored it. */
  ship: (events: LogLine[]) => Promise<void>;
  /** The cursor to resume after (the saved checkpoint, or the control plane's if later). */
  resumeAfter: () => Promise<string | undefined>;
  saveCheckpoint: (cursor: string) => void;
  /** Whether the container has stopped (so the end of its output is final). */
  exited: () => Promise<boolean>;
  log: { warn(obj: object, msg?: string): void };
}

const MAX_BATCH_EVENTS = 10_000;
/** Under PutLogEvents' 1 MiB with room for JSON escaping. */
const MAX_BATCH_BYTES = 768 * 1024;
const OVERHEAD = 26;
const CHECKPOINT_MS = 250;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class ContainerLogFollower {
  private readonly queue: LogLine[] = [];
  private head = 0;
  private bytes = 0;
  private readEnded = false;
  private readonly stop = new AbortController();
  private wakeShipper: (() => void) | undefined;
  private wakeReader: (() => void) | undefined;
  /** Lines dropped in non-blocking mode. */
  dropped = 0;
  /** Lines shipped and accepted since start. */
  shipped = 0;
  /** Resolves when the container stopped and all its output was shipped (or close() was called). */
  readonly done: Promise<void>;
  finished = false;

  constructor(private readonly o: FollowerOptions) {
    this.done = this.run();
  }

  /** Stops both loops without a final flush (agent shutdown: the checkpoint says where to resume). */
  close(): Promise<void> {
    this.stop.abort();
    this.wakeShipper?.();
    this.wakeReader?.();
    return this.done;
  }

  get bufferedBytes(): number {
    return this.bytes;
  }

  private async run(): Promise<void> {
    let after: string | undefined;
    for (let attempt = 0; !this.stop.signal.aborted; attempt++) {
      try {
        after = await this.o.resumeAfter();
        break;
      } catch (e) {
        this.o.log.warn({ err: String(e) }, 'could not read where the container log stream stands; retrying');
        await sleep(Math.min(5000, 200 * 2 ** attempt), this.stop.signal);
      }
    }
    await Promise.all([this.readLoop(after), this.shipLoop()]);
    this.checkpoint(undefined, true);
    this.finished = !this.stop.signal.aborted;
  }

  private async readLoop(after: string | undefined): Promise<void> {
    let last = after;
    let failures = 0;
    // Once the container has exited, the output is read once more without following: Docker can
    // end a follow stream at the container's exit before it delivered every line.
    let draining = false;
    while (!this.stop.signal.aborted) {
      const parser = new DockerLogParser();
      const before = last;
      try {
        const stream = await this.o.open(sinceOf(last), this.stop.signal, !draining);
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          for (const line of parser.push(chunk)) {
            if (compareCursors(line.cursor, last) <= 0) continue;
            last = line.cursor;
            if (line.message === '') continue; // CloudWatch events cannot be empty (ECS's awslogs skips them too)
            await this.enqueue(line);
            if (this.stop.signal.aborted) return;
          }
        }
        failures = 0;
      } catch (e) {
        if (this.stop.signal.aborted) return;
        this.o.log.warn({ err: String(e) }, 'reading the container log stream failed; resuming');
        failures++;
      }
      if (draining && failures === 0 && last === before) break; // nothing more: the output is complete
      // A container gone for good (removed): what could be read was read.
      if (draining && failures >= 3) break;
      // The stream ended: if the container stopped, drain what is left; else (daemon restart, network) follow again.
      const exited = await this.o.exited().catch(() => false);
      if (exited && failures === 0) {
        draining = true;
        continue;
      }
      draining = exited;
      await sleep(Math.min(5000, 200 * 2 ** failures), this.stop.signal);
    }
    this.readEnded = true;
    this.wakeShipper?.();
  }

  private async enqueue(line: LogLine): Promise<void> {
    const size = Buffer.byteLength(line.message) + OVERHEAD;
    if (this.bytes + size > this.o.maxBufferBytes && this.bytes > 0) {
      if (this.o.mode === 'non-blocking') {
        if (this.dropped++ % 10_000 === 0) this.o.log.warn({ dropped: this.dropped }, 'awslogs non-blocking buffer full: dropping lines');
        return;
      }
      while (this.bytes + size > this.o.maxBufferBytes && this.bytes > 0 && !this.stop.signal.aborted) {
        await new Promise<void>((resolve) => (this.wakeReader = resolve));
        this.wakeReader = undefined;
      }
    }
    this.queue.push(line);
    this.bytes += size;
    this.wakeShipper?.();
  }

  private unsaved: string | undefined;
  private savedAt = 0;

  /**
   * Saves the cursor at most every CHECKPOINT_MS (a file write and rename per batch would cost
   * more than the batch): an older checkpoint only means re-reading lines the control plane
   * drops as already stored.
   */
  private checkpoint(cursor: string | undefined, force = false): void {
    if (cursor !== undefined) this.unsaved = cursor;
    const now = Date.now();
    if (this.unsaved === undefined || (!force && now - this.savedAt < CHECKPOINT_MS)) return;
    this.o.saveCheckpoint(this.unsaved);
    this.unsaved = undefined;
    this.savedAt = now;
  }

  private takeBatch(): LogLine[] {
    const batch: LogLine[] = [];
    let bytes = 0;
    for (let i = this.head; i < this.queue.length && batch.length < MAX_BATCH_EVENTS; i++) {
      const line = this.queue[i]!;
      const size = Buffer.byteLength(line.message) + OVERHEAD;
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      batch.push(line);
      bytes += size;
    }
    return batch;
  }

  private async shipLoop(): Promise<void> {
    let failures = 0;
    while (!this.stop.signal.aborted) {
      if (this.head >= this.queue.length) {
        if (this.readEnded) return;
        await new Promise<void>((resolve) => (this.wakeShipper = resolve));
        this.wakeShipper = undefined;
        continue;
      }
      const batch = this.takeBatch();
      try {
        await this.o.ship(batch);
        failures = 0;
      } catch (e) {
        if (this.stop.signal.aborted) return;
        this.o.log.warn({ err: String(e), lines: batch.length }, 'shipping container logs failed; will retry');
        await sleep(Math.min(5000, 200 * 2 ** failures++), this.stop.signal);
        continue;
      }
      this.head += batch.length;
      this.shipped += batch.length;
      for (const l of batch) this.bytes -= Buffer.byteLength(l.message) + OVERHEAD;
      // Compact now and then, so shipped lines do not stay referenced.
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.checkpoint(batch[batch.length - 1]!.cursor);
      this.wakeReader?.();
    }
  }
}
