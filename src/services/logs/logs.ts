/**
 * The CloudWatch Logs domain: log groups, streams and events over the LogEventStore, with AWS's
 * rules (names, batch limits, tokens, retention, tags). Handlers in index.ts are thin over this.
 */
import { AwsError } from '../../aws/errors.js';
import type { Clock } from '../../core/clock.js';
import { compareCursors } from '../../core/log-cursor.js';
import { positionToken, tokenPosition } from '../../core/pagination.js';
import type {
  CreateLogGroupRequest,
  DescribeLogGroupsRequest,
  DescribeLogStreamsRequest,
  FilterLogEventsRequest,
  GetLogEventsRequest,
  PutLogEventsRequest,
} from '../../aws/generated/logs.js';
import { EVENT_OVERHEAD_BYTES, type EventPosition, type EventRow, type GroupRow, type LogEventStore, type StreamRow } from './event-store.js';
import { compileFilterPattern, FilterPatternError } from './filter-pattern.js';
import { checkBatch, RETENTION_DAYS } from './put-rules.js';

export interface Scope {
  accountId: string;
  region: string;
}

export const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);
export const groupNotFound = () => new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
const streamNotFound = () => new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.');

const MAX_TAGS = 50;
const RESPONSE_BYTES = 1_048_576;
const MAX_EVENTS = 10_000;
/** Rows of a time range one FilterLogEvents call looks at, at most; the rest comes with nextToken (as AWS pages its scans). */
export const FILTER_SCAN_BUDGET = 250_000;
const FILTER_SCAN_SLICE = 50_000;
const FAR_FUTURE = 8_640_000_000_000_000;

export class LogsDomain {
  constructor(
    readonly events: LogEventStore,
    private readonly clock: Clock,
    private readonly onRetentionChanged: (groupId: number) => void = () => undefined,
  ) {}

  private nowMs(): number {
    return Math.floor(this.clock.now() * 1000);
  }

  groupArn(s: Scope, name: string): string {
    return `arn:aws:logs:${s.region}:${s.accountId}:log-group:${name}`;
  }

  /** A group by name, or by ARN (`logGroupIdentifier`: with or without the trailing `:*`). */
  private resolveGroup(s: Scope, nameOrArn: string): GroupRow {
    const name = nameOrArn.startsWith('arn:') ? this.nameFromArn(s, nameOrArn) : nameOrArn;
    const g = this.events.group(s.region, name);
    if (!g) throw groupNotFound();
    return g;
  }

  private nameFromArn(s: Scope, arn: string): string {
    const m = /^arn:aws:logs:([a-z0-9-]+):(\d{12}):log-group:([.\-_/#A-Za-z0-9]+?)(:\*)?$/.exec(arn);
    if (!m) throw invalidParameter(`Invalid ARN: ${arn}`);
    if (m[1] !== s.region || m[2] !== s.accountId) throw groupNotFound();
    return m[3]!;
  }

  /** Exactly one of logGroupName and logGroupIdentifier. */
  private groupOf(s: Scope, input: { logGroupName?: string; logGroupIdentifier?: string }): GroupRow {
    if (input.logGroupName !== undefined && input.logGroupIdentifier !== undefined) {
      throw invalidParameter('LogGroupName and LogGroupIdentifier are mutually exclusive parameters.');
    }
    const id = input.logGroupName ?? input.logGroupIdentifier;
    if (id === undefined) throw invalidParameter('Either LogGroupName or LogGroupIdentifier must be specified.');
    return this.resolveGroup(s, id);
  }

  // ---- groups ----

  createGroup(s: Scope, input: CreateLogGroupRequest): Record<string, never> {
    if (input.tags && Object.keys(input.tags).length > MAX_TAGS) throw invalidParameter(`A log group can have at most ${MAX_TAGS} tags.`);
    if (input.logGroupName.startsWith('aws/')) throw invalidParameter('Log group names starting with aws/ are reserved.');
    const created = this.events.createGroup({
      region: s.region,
      name: input.logGroupName,
      created: this.nowMs(),
      kmsKeyId: input.kmsKeyId,
      class: input.logGroupClass ?? 'STANDARD',
      deletionProtection: input.deletionProtectionEnabled ?? false,
      tags: input.tags ?? {},
    });
    if (!created) throw new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists');
    return {};
  }

  /** For awslogs-create-group: creates the group unless it exists. */
  ensureGroup(s: Scope, name: string): GroupRow {
    this.events.createGroup({ region: s.region, name, created: this.nowMs(), class: 'STANDARD', deletionProtection: false, tags: {} });
    return this.events.group(s.region, name)!;
  }

  deleteGroup(s: Scope, name: string): Record<string, never> {
    const g = this.resolveGroup(s, name);
    if (g.deletion_protection) throw new AwsError('OperationAbortedException', 'The log group has deletion protection enabled. Disable it before deleting the log group.');
    this.events.deleteGroup(g.id);
    return {};
  }

  describeGroups(s: Scope, input: DescribeLogGroupsRequest) {
    if (input.logGroupNamePrefix !== undefined && input.logGroupNamePattern !== undefined) {
      throw invalidParameter('LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive parameters.');
    }
    if (input.logGroupIdentifiers && (input.logGroupNamePrefix !== undefined || input.logGroupNamePattern !== undefined)) {
      throw invalidParameter('LogGroupIdentifiers cannot be combined with LogGroupNamePrefix or LogGroupNamePattern.');
    }
    const limit = input.limit ?? 50;
    if (input.logGroupIdentifiers) {
      const rows = input.logGroupIdentifiers.flatMap((id) => {
        try {
          return [this.resolveGroup(s, id)];
        } catch (e) {
          if (e instanceof AwsError && e.code === 'ResourceNotFoundException') return [];
          throw e;
        }
      });
      return { logGroups: rows.map((g) => this.groupView(s, g)) };
    }
    const after = tokenPosition(input.nextToken, ['string'])?.[0] as string | undefined;
    const rows = this.events.listGroups(s.region, {
      after: after ?? '',
      prefix: input.logGroupNamePrefix ?? '',
      pattern: input.logGroupNamePattern || undefined,
      class: input.logGroupClass,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      logGroups: page.map((g) => this.groupView(s, g)),
      nextToken: rows.length > limit ? positionToken([page[page.length - 1]!.name]) : undefined,
    };
  }

  private groupView(s: Scope, g: GroupRow) {
    const arn = this.groupArn(s, g.name);
    return {
      logGroupName: g.name,
      creationTime: g.created,
      retentionInDays: g.retention_days ?? undefined,
      metricFilterCount: 0,
      arn: `${arn}:*`,
      logGroupArn: arn,
      storedBytes: g.stored_bytes,
      kmsKeyId: g.kms_key_id ?? undefined,
      logGroupClass: g.class,
      deletionProtectionEnabled: g.deletion_protection === 1,
    };
  }

  putRetention(s: Scope, name: string, days: number): Record<string, never> {
    if (!(RETENTION_DAYS as readonly number[]).includes(days)) {
      throw invalidParameter(
        `1 validation error detected: Value '${days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`,
      );
    }
    const g = this.resolveGroup(s, name);
    this.events.setRetention(g.id, days);
    this.onRetentionChanged(g.id);
    return {};
  }

  deleteRetention(s: Scope, name: string): Record<string, never> {
    this.events.setRetention(this.resolveGroup(s, name).id, null);
    return {};
  }

  /** Deletes every group's events past its retention; returns how many. */
  applyRetention(groupId?: number): number {
    const now = this.nowMs();
    let deleted = 0;
    for (const g of this.events.retained()) {
      if (groupId !== undefined && g.id !== groupId) continue;
      deleted += this.events.deleteBefore(g.id, now - g.retention_days * 86_400_000);
    }
    return deleted;
  }

  // ---- tags ----

  private tagsOf(g: GroupRow): Record<string, string> {
    return JSON.parse(g.tags) as Record<string, string>;
  }

  /** `resourceName` absent: the legacy TagLogGroup, whose model has no TooManyTagsException (AWS answers InvalidParameterException). */
  tagGroup(g: GroupRow, tags: Record<string, string>, resourceName?: string): Record<string, never> {
    const next = { ...this.tagsOf(g), ...tags };
    if (Object.keys(next).length > MAX_TAGS) {
      const message = `A resource can have at most ${MAX_TAGS} tags.`;
      throw resourceName === undefined ? new AwsError('InvalidParameterException', message, 400) : new AwsError('TooManyTagsException', message, 400, { resourceName });
    }
    this.events.setTags(g.id, next);
    return {};
  }

  untagGroup(g: GroupRow, keys: readonly string[]): Record<string, never> {
    const next = this.tagsOf(g);
    for (const k of keys) delete next[k];
    this.events.setTags(g.id, next);
    return {};
  }

  listTags(g: GroupRow): { tags: Record<string, string> } {
    return { tags: this.tagsOf(g) };
  }

  groupByName(s: Scope, name: string): GroupRow {
    return this.resolveGroup(s, name);
  }

  /** TagResource & co.: only log groups carry tags here (destinations and others are not implemented). */
  groupByArn(s: Scope, arn: string): GroupRow {
    if (!/^arn:aws:logs:[a-z0-9-]+:\d{12}:log-group:/.test(arn)) throw invalidParameter(`Invalid resource ARN: ${arn}. Only log group ARNs are supported.`);
    return this.resolveGroup(s, arn);
  }

  // ---- streams ----

  createStream(s: Scope, groupName: string, streamName: string): Record<string, never> {
    const g = this.resolveGroup(s, groupName);
    if (!this.events.createStream(g.id, streamName, this.nowMs())) throw new AwsError('ResourceAlreadyExistsException', 'The specified log stream already exists');
    return {};
  }

  deleteStream(s: Scope, groupName: string, streamName: string): Record<string, never> {
    const g = this.resolveGroup(s, groupName);
    const st = this.events.stream(g.id, streamName);
    if (!st) throw streamNotFound();
    this.events.deleteStream(st);
    return {};
  }

  describeStreams(s: Scope, input: DescribeLogStreamsRequest) {
    const g = this.groupOf(s, input);
    const byTime = input.orderBy === 'LastEventTime';
    if (byTime && input.logStreamNamePrefix !== undefined) throw invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
    const limit = input.limit ?? 50;
    const descending = input.descending ?? false;
    let rows: StreamRow[];
    if (byTime) {
      const after = tokenPosition(input.nextToken, ['number', 'string']) as [number, string] | undefined;
      rows = this.events.listStreamsByTime(g.id, { after, descending, limit: limit + 1 });
    } else {
      const after = tokenPosition(input.nextToken, ['string'])?.[0] as string | undefined;
      rows = this.events.listStreamsByName(g.id, { after, prefix: input.logStreamNamePrefix ?? '', descending, limit: limit + 1 });
    }
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      logStreams: page.map((st) => this.streamView(s, g, st)),
      nextToken: rows.length > limit && last ? positionToken(byTime ? [last.last_event ?? 0, last.name] : [last.name]) : undefined,
    };
  }

  private streamView(s: Scope, g: GroupRow, st: StreamRow) {
    return {
      logStreamName: st.name,
      creationTime: st.created,
      firstEventTimestamp: st.first_event ?? undefined,
      lastEventTimestamp: st.last_event ?? undefined,
      lastIngestionTime: st.last_ingestion ?? undefined,
      uploadSequenceToken: sequenceToken(st),
      arn: `${this.groupArn(s, g.name)}:log-stream:${st.name}`,
      // Deprecated by AWS, which reports 0.
      storedBytes: 0,
    };
  }

  // ---- events ----

  putEvents(s: Scope, input: PutLogEventsRequest) {
    const g = this.resolveGroup(s, input.logGroupName);
    const st = this.events.stream(g.id, input.logStreamName);
    if (!st) throw streamNotFound();
    const now = this.nowMs();
    const verdict = checkBatch(input.logEvents, now, g.retention_days);
    if (!verdict.ok) throw invalidParameter(verdict.message);
    const kept = input.logEvents.slice(verdict.accepted.from, verdict.accepted.to).map((e) => ({ ts: e.timestamp, message: e.message }));
    this.events.append(g.id, st.id, kept, now);
    return { nextSequenceToken: sequenceToken(this.events.stream(g.id, st.name)!), rejectedLogEventsInfo: verdict.rejected };
  }

  getEvents(s: Scope, input: GetLogEventsRequest) {
    const g = this.groupOf(s, input);
    const st = this.events.stream(g.id, input.logStreamName);
    if (!st) throw streamNotFound();
    const limit = input.limit ?? MAX_EVENTS;
    const start = input.startTime ?? 0;
    const end = input.endTime ?? FAR_FUTURE;
    const token = input.nextToken === undefined ? undefined : parseStreamToken(input.nextToken);
    // Forward from the head (or a forward token); else backward from the end (or a backward token): the newest events first, as AWS does.
    const forward = token ? token.dir === 'f' : (input.startFromHead ?? false);
    let rows: EventRow[];
    if (forward) {
      rows = capBytes(this.events.forward(st.id, token?.pos ?? [start, 0], end, limit));
    } else {
      rows = capBytes(this.events.backward(st.id, token?.pos ?? [end, 0], start, limit)).reverse();
    }
    const first = rows[0];
    const last = rows[rows.length - 1];
    // With no events the tokens stay where they were: a client that sees the same token again has reached the end.
    const here = token?.pos ?? (forward ? ([start, 0] as const) : ([end, 0] as const));
    return {
      events: rows.map((r) => ({ timestamp: r.ts, message: r.message, ingestionTime: r.ingested })),
      nextForwardToken: streamToken('f', last ? [last.ts, last.id] : here),
      nextBackwardToken: streamToken('b', first ? [first.ts, first.id] : here),
    };
  }

  filterEvents(s: Scope, input: FilterLogEventsRequest) {
    const g = this.groupOf(s, input);
    if (input.logStreamNames && input.logStreamNamePrefix !== undefined) {
      throw invalidParameter('logStreamNames and logStreamNamePrefix are mutually exclusive parameters.');
    }
    let pattern;
    try {
      pattern = compileFilterPattern(input.filterPattern);
    } catch (e) {
      if (e instanceof FilterPatternError) throw invalidParameter(`Invalid filter pattern: ${e.message}`);
      throw e;
    }
    const start = input.startTime ?? 0;
    const end = input.endTime ?? FAR_FUTURE;
    if (end < start) throw invalidParameter('endTime must be greater than or equal to startTime.');
    const limit = input.limit ?? MAX_EVENTS;
    let names: Map<number, string>;
    let streamIds: number[] | undefined;
    if (input.logStreamNames) {
      names = new Map(input.logStreamNames.flatMap((n) => {
        const st = this.events.stream(g.id, n);
        return st ? [[st.id, st.name] as const] : [];
      }));
      if (names.size === 0) throw streamNotFound();
      streamIds = [...names.keys()];
    } else if (input.logStreamNamePrefix !== undefined) {
      names = new Map(this.events.streamIds(g.id, input.logStreamNamePrefix).map((r) => [r.id, r.name]));
      streamIds = [...names.keys()];
    } else {
      names = new Map(this.events.streamIds(g.id).map((r) => [r.id, r.name]));
    }
    const after = (tokenPosition(input.nextToken, ['number', 'number']) as EventPosition | undefined) ?? ([start, 0] as const);
    const events: { logStreamName: string; timestamp: number; message: string; ingestionTime: number; eventId: string }[] = [];
    let next: EventPosition | undefined;
    if (streamIds?.length !== 0) {
      // In slices of the range, so a query that fills its page early never walks the whole budget.
      let from: EventPosition = [Math.max(after[0], start), after[0] < start ? 0 : after[1]];
      let bytes = 0;
      let full = false;
      for (let scanned = 0; scanned < FILTER_SCAN_BUDGET && !full; scanned += FILTER_SCAN_SLICE) {
        const { rows, end: sliceEnd } = this.events.scan({ groupId: g.id, streamIds, after: from, endTs: end, required: pattern.required, budget: FILTER_SCAN_SLICE });
        for (const r of rows) {
          if (!pattern.matches(r.message)) continue;
          bytes += Buffer.byteLength(r.message) + EVENT_OVERHEAD_BYTES;
          if (events.length >= limit || (bytes > RESPONSE_BYTES && events.length > 0)) {
            full = true;
            (rows as unknown as { return?: () => void }).return?.();
            break;
          }
          events.push({ logStreamName: names.get(r.stream_id) ?? '', timestamp: r.ts, message: r.message, ingestionTime: r.ingested, eventId: eventId(r.id) });
          next = [r.ts, r.id];
        }
        if (full) break;
        // The range was read to its end: no next page.
        if (!sliceEnd) {
          next = undefined;
          break;
        }
        from = sliceEnd;
        next = sliceEnd;
      }
    }
    return { events, searchedLogStreams: [], nextToken: next ? positionToken(next) : undefined };
  }

  // ---- awslogs from the agent ----

  /**
   * The stream an awslogs container writes to, created when missing; the group too when
   * `createGroup`, else a missing group is ResourceNotFoundException. Returns the stream's
   * shipping cursor (where the agent's last accepted batch ended).
   */
  openShippingStream(s: Scope, groupName: string, streamName: string, createGroup: boolean): { cursor: string | undefined } {
    const g = createGroup ? this.ensureGroup(s, groupName) : this.events.group(s.region, groupName);
    if (!g) throw groupNotFound();
    this.events.createStream(g.id, streamName, this.nowMs());
    return { cursor: this.events.stream(g.id, streamName)!.ship_cursor ?? undefined };
  }

  /**
   * A batch shipped by an agent: events at or before the stream's cursor were stored already (a
   * batch resent after an agent restart) and are dropped; the cursor moves with the batch, in
   * the same transaction. Timestamps never go backwards within a stream (Docker's two output
   * streams can interleave by a microsecond), so GetLogEvents shows lines in the order written.
   */
  ingestShipped(s: Scope, groupName: string, streamName: string, events: readonly { timestamp: number; message: string; cursor: string }[]): { accepted: number; cursor: string | undefined } {
    const g = this.events.group(s.region, groupName);
    if (!g) throw groupNotFound();
    let st = this.events.stream(g.id, streamName);
    if (!st) {
      this.events.createStream(g.id, streamName, this.nowMs());
      st = this.events.stream(g.id, streamName)!;
    }
    const fresh = events.filter((e) => st.ship_cursor === null || compareCursors(e.cursor, st.ship_cursor) > 0);
    let floor = st.last_event ?? 0;
    const rows = fresh.map((e) => {
      floor = Math.max(floor, e.timestamp);
      return { ts: floor, message: e.message };
    });
    const cursor = fresh.length ? fresh[fresh.length - 1]!.cursor : undefined;
    if (fresh.length) this.events.append(g.id, st.id, rows, this.nowMs(), cursor);
    return { accepted: fresh.length, cursor: cursor ?? st.ship_cursor ?? undefined };
  }
}

const eventId = (id: number) => String(id).padStart(20, '0');

/** Stays the same until the stream gets events (AWS ignores sequence tokens since 2023, but still returns them). */
function sequenceToken(st: StreamRow): string {
  return `${String(st.id).padStart(10, '0')}${String(st.last_ingestion ?? 0).padStart(16, '0')}`;
}

function streamToken(dir: 'f' | 'b', pos: readonly [number, number]): string {
  return `${dir}/${pos[0]}/${pos[1]}`;
}

function parseStreamToken(token: string): { dir: 'f' | 'b'; pos: EventPosition } {
  const m = /^([fb])\/(-?\d{1,16})\/(\d{1,19})$/.exec(token);
  if (!m) throw invalidParameter('The specified nextToken is invalid.');
  return { dir: m[1] as 'f' | 'b', pos: [Number(m[2]), Number(m[3])] };
}

/** Keeps events while their size stays within a response's 1 MB. */
function capBytes(rows: EventRow[]): EventRow[] {
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    bytes += Buffer.byteLength(rows[i]!.message) + EVENT_OVERHEAD_BYTES;
    if (bytes > RESPONSE_BYTES && i > 0) return rows.slice(0, i);
  }
  return rows;
}
