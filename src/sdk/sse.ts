/**
 * A minimal server-sent events reader over a `fetch` body (no `EventSource`, so a bearer
 * header can be sent; no Deno APIs, so it runs in browsers).
 *
 * @module
 */

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
 * import { readSse } from "./sse.ts";
 * const body = new Response("event: ring\ndata: {}\n\n").body!;
 * for await (const message of readSse(body)) console.log(message.event); // ring
 * ```
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  let id: string | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let nl;
      while ((nl = buffer.search(/\r?\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer[nl] === "\r" ? 2 : 1));
        if (line === "") {
          if (data.length > 0) yield { event, data: data.join("\n"), ...(id ? { id } : {}) };
          event = "message";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id") id = value;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
