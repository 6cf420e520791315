/**
 * Recordings in cluster mode: the recorder plugin on B records B's SIP call; its metadata
 * reaches Redis, so `GET /v1/recordings` (and `/v1/recordings/{sid}`) on A lists it, naming
 * the node that holds its files; its audio, fetched on A, comes from B.
 */
import { assertEquals } from "@std/assert";
import { requireOrSkip } from "../_lib/env.ts";
import { hasRedis } from "../_lib/redis.ts";
import { isStatus, nextMatching, startSipPair } from "./_cluster.ts";
import { haveSipp } from "../sip/_harness.ts";

const available = hasRedis() && haveSipp();
if (!available) requireOrSkip(false, "redis-server or sipp is not installed: the test skips");

interface Listed {
  readonly sid: string;
  readonly state: string;
  readonly node: string;
  readonly path: string;
}

Deno.test({
  name: "a recording made on node B is listed by GET /v1/recordings on node A, naming B",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using pair = await startSipPair({
      echo: true,
      bFile: { plugins: [{ module: "builtin:recorder" }] },
    });
    const { uas, a, b } = pair;
    const stop = new AbortController();
    try {
      const call = await b.voice.calls.originate({ from: "+14155550100", to: "+14155550123" });
      const events = a.voice.calls.events(call.sid, { signal: stop.signal });
      await nextMatching(events, isStatus("in_progress"));
      // The recording is live on B: A lists it too.
      const live = await recordingOn(a, call.sid, () => true);
      assertEquals([live.node, live.path], ["node-b", `${call.sid}.wav`]);
      const ended = await a.voice.calls.hangup(call.sid);
      assertEquals(ended.status, "completed");
      const done = await uas.done;
      assertEquals(done.code, 0, new TextDecoder().decode(done.stderr));
      // Completed on B: A's list and A's `/v1/recordings/{sid}` say so.
      const completed = await recordingOn(a, call.sid, (r) => r.state === "completed");
      assertEquals(completed.node, "node-b");
      const one = await a.fetch(`/v1/recordings/${call.sid}`);
      assertEquals(one.status, 200);
      const got = await one.json() as Listed;
      assertEquals([got.sid, got.node, got.state], [call.sid, "node-b", "completed"]);
      // The audio stays on B: A fetches it from B (same bytes), with the caller's token.
      const fromB = await b.fetch(`/v1/recordings/${call.sid}/audio`);
      assertEquals([fromB.status, fromB.headers.get("content-type")], [200, "audio/wav"]);
      const wav = await fromB.bytes();
      assertEquals(new TextDecoder().decode(wav.subarray(0, 4)), "RIFF");
      const fromA = await a.fetch(`/v1/recordings/${call.sid}/audio`);
      assertEquals(fromA.status, 200);
      assertEquals(await fromA.bytes(), wav);
      // Without a token, A refuses it (as B would).
      const anonymous = await fetch(`${a.http}/v1/recordings/${call.sid}/audio`);
      assertEquals(anonymous.status, 401);
      await anonymous.body?.cancel();
      // B lists its own recording from its files.
      const onB = await (await b.fetch("/v1/recordings")).json() as { recordings: Listed[] };
      assertEquals(onB.recordings.map((r) => [r.sid, r.node]), [[call.sid, "node-b"]]);
    } finally {
      stop.abort();
    }
  },
});

/**
 * The recording of `sid` in `node`'s `GET /v1/recordings` once `ready` accepts it: B copies
 * its sidecar to Redis as it writes it, with no event A could wait on; bounded: 30 s.
 */
async function recordingOn(
  node: { fetch(path: string): Promise<Response> },
  sid: string,
  ready: (recording: Listed) => boolean,
): Promise<Listed> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await node.fetch("/v1/recordings");
    assertEquals(response.status, 200);
    const { recordings } = await response.json() as { recordings: Listed[] };
    const found = recordings.find((r) => r.sid === sid);
    if (found && ready(found)) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `Recording ${sid} not listed as expected within 30 s: ${JSON.stringify(found)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
