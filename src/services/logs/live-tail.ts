/**
 * StartLiveTail: a session that streams the events stored from now on in up to 10 log groups
 * (optionally some streams, or stream-name prefixes, of one group; optionally a filter pattern),
 * as CloudWatch Logs does: a sessionStart event, then a sessionUpdate about every second with
 * what arrived (at most 500 events an update; more is sampled out and flagged), for at most
 * 3 hours or until the client goes away.
 */
import { randomUUID } from 'node:crypto';
import type { StartLiveTailRequest } from '../../aws/generated/logs.js';
import { EventStreamOutput, type StreamEvent } from '../../aws/event-stream.js';
import type { RequestContext } from '../../aws/service.js';
import { compileFilterPattern, FilterPatternError } from './filter-pattern.js';
import { invalidParameter, type LogsDomain } from './logs.js';

const UPDATE_MS = 1000;
const MAX_PER_UPDATE = 500;
const SESSION_MS = 3 * 3600_000;

export function startLiveTail(d: LogsDomain, ctx: RequestContext, input: StartLiveTailRequest, o: { updateMs?: number } = {}): EventStreamOutput {
  if (input.logStreamNames && input.logStreamNamePrefixes) throw invalidParameter('logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.');
  if ((input.logStreamNames || input.logStreamNamePrefixes) && input.logGroupIdentifiers.length !== 1) {
    throw invalidParameter('logStreamNames and logStreamNamePrefixes can only be used with exactly one log group.');
  }
  let pattern: ReturnType<typeof compileFilterPattern>;
  try {
    pattern = compileFilterPattern(input.logEventFilterPattern);
  } catch (e) {
    if (e instanceof FilterPatternError) throw invalidParameter(`Invalid filter pattern: ${e.message}`);
    throw e;
  }
  // Resolved before the stream starts: a missing group is an ordinary error response.
  const groups = new Map(input.logGroupIdentifiers.map((id) => [d.groupByName(ctx, id).id, id] as const));
  const names = new Set(input.logStreamNames ?? []);
  const prefixes = input.logStreamNamePrefixes ?? [];
  const wanted = (stream: string) => (names.size === 0 || names.has(stream)) && (prefixes.length === 0 || prefixes.some((p) => stream.startsWith(p)));
  const streamNames = new Map<number, string>();
  const streamName = (groupId: number, streamId: number) => {
    let n = streamNames.get(streamId);
    if (n === undefined) {
      n = d.events.streamIds(groupId).find((s) => s.id === streamId)?.name ?? '';
      if (streamNames.size > 10_000) streamNames.clear();
      streamNames.set(streamId, n);
    }
    return n;
  };
  const store = d.events;
  let after = store.maxId();
  const started = Date.now();
  const updateMs = o.updateMs ?? UPDATE_MS;

  async function* events(): AsyncGenerator<StreamEvent> {
    // awsJson event streams open with the output's other members (none here): botocore requires it.
    yield { type: 'initial-response', payload: {} };
    yield {
      type: 'sessionStart',
      payload: {
        requestId: ctx.requestId,
        sessionId: randomUUID(),
        logGroupIdentifiers: input.logGroupIdentifiers,
        logStreamNames: input.logStreamNames,
        logStreamNamePrefixes: input.logStreamNamePrefixes,
        logEventFilterPattern: input.logEventFilterPattern,
      },
    };
    while (Date.now() - started < SESSION_MS) {
      await new Promise((r) => setTimeout(r, updateMs).unref());
      let rows;
      try {
        rows = store.newer(after, [...groups.keys()], 10_000);
      } catch {
        return; // the server is shutting down (the log store is closed)
      }
      if (rows.length) after = rows[rows.length - 1]!.id;
      const results = rows
        .filter((r) => wanted(streamName(r.group_id, r.stream_id)) && pattern.matches(r.message))
        .map((r) => ({ logStreamName: streamName(r.group_id, r.stream_id), logGroupIdentifier: groups.get(r.group_id), message: r.message, timestamp: r.ts, ingestionTime: r.ingested }));
      if (results.length === 0) continue;
      yield { type: 'sessionUpdate', payload: { sessionMetadata: { sampled: results.length > MAX_PER_UPDATE }, sessionResults: results.slice(-MAX_PER_UPDATE) } };
    }
    yield { type: 'SessionTimeoutException', payload: { message: 'The session has reached its maximum duration of 3 hours.' } };
  }
  return new EventStreamOutput(events());
}
