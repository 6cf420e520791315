/**
 * A server-sent events reader over a `fetch` body (no `EventSource`, so a bearer header can be
 * sent; no Deno APIs, so it runs in browsers). Parsing is `eventsource-parser`'s (WHATWG
 * event-stream rules: CR/LF/CRLF line ends, BOM, comments, multi-line data, `retry`).
 *
 * @module
 */
import { EventSourceParserStream } from "eventsource-parser/stream";

/** One event. */
export interface SseMessage {
  /** The `event:` field, `"message"` when the event has none. */
  readonly event: string;
  /** The `data:` lines, joined with newlines. */
  readonly data: string;
  /** The last `id:` field seen on the stream so far, absent if none. */
  readonly id?: string;
}

/**
 * Parses an SSE byte stream into messages; ends when the stream ends.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { readSse } from "@clutchcall/voice/sdk";
 * const body = new Response("event: ring\ndata: {}\n\nevent: answer\ndata: {}\n\n").body!;
 * const events: (string | undefined)[] = [];
 * for await (const message of readSse(body)) events.push(message.event);
 * assertEquals(events, ["ring", "answer"]);
 * ```
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const events = body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream());
  const reader = events.getReader();
  let id: string | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      // The last event id persists across events (the EventSource `lastEventId` rule).
      if (value.id !== undefined) id = value.id;
      yield { event: value.event ?? "message", data: value.data, ...(id ? { id } : {}) };
    }
  } finally {
    await reader.cancel().catch(() => {/* the stream already failed or ended */});
  }
}
