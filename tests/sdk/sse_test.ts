import { assertEquals } from "@std/assert";
import { readSse } from "../../src/sdk/sse.ts";

/** A body that delivers `chunks` one by one (as a network would, split anywhere). */
function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(encoder.encode(next));
    },
  });
}

Deno.test("readSse parses events split across chunks, CRLF and CR line ends, comments, multi-line data and sticky ids", async () => {
  const messages = [];
  for await (
    const message of readSse(body([
      "\uFEFFevent: ri",
      'ng\r\ndata: {"a":1}\r\nid: 7\r\n\r\n',
      ": keep-alive\n\n",
      "data: x\rdata: y\r\r",
      "event: cancel\ndata:no-space\n\n",
      "data: unterminated",
    ]))
  ) messages.push(message);
  assertEquals(messages, [
    { event: "ring", data: '{"a":1}', id: "7" },
    { event: "message", data: "x\ny", id: "7" },
    { event: "cancel", data: "no-space", id: "7" },
  ]);
});
