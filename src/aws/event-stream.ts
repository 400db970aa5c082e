/**
 * Event-stream output (`application/vnd.amazon.eventstream`) for awsJson operations whose output
 * is a stream of events (CloudWatch Logs' StartLiveTail): a handler returns an EventStreamOutput,
 * and the protocol sends each event as one binary message (prelude, headers, JSON payload,
 * CRC32s; @smithy/core's codec) until the events end or the client goes away.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

export interface StreamEvent {
  /** The event stream union's member name (`:event-type`). */
  type: string;
  payload: unknown;
}

export class EventStreamOutput {
  /** Stopping the iteration (the client went away) runs the generator's `finally`. */
  constructor(readonly events: AsyncIterable<StreamEvent>) {}
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export async function* encodeEvents(events: AsyncIterable<StreamEvent>): AsyncGenerator<Buffer> {
  for await (const e of events) {
    yield Buffer.from(
      codec.encode({
        headers: {
          ':message-type': { type: 'string', value: 'event' },
          ':event-type': { type: 'string', value: e.type },
          ':content-type': { type: 'string', value: 'application/json' },
        },
        body: fromUtf8(JSON.stringify(e.payload)),
      }),
    );
  }
}
