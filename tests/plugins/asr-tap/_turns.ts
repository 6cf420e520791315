/**
 * The shared scenario of the provider tests: a server with `builtin:asr-tap` pointed at a
 * fake recognizer, a `client:` call whose caller speaks turns-48k.wav in real time over
 * MoQT, both finals awaited on the call's SSE stream, then a hangup.
 *
 * @module
 */
import { nowMicros } from "../../../src/voice/track.ts";
import type { CallEvent } from "../../../src/calls/events.ts";
import type { AttachOptions } from "../../../src/sdk/mod.ts";
import { readFixtureWav } from "../../_lib/fixtures.ts";
import { type FakeRecognizer, type Protocol, startFakeRecognizer } from "./_recognizers.ts";
import { type AsrServer, collectEvents, startAsrServer, transcripts } from "./_server.ts";
import { callClient, speak } from "./_call.ts";

export const UTTERANCES = [
  "thank you for calling please say the name of the person you would like to reach",
  "i would like to speak with the billing department about my last invoice",
];

/** The pauses inside the fixture's utterances are shorter than this; between them, longer. */
export const ENDPOINT_MS = 700;

export interface TurnsResult {
  readonly fx: AsrServer;
  readonly fake: FakeRecognizer;
  readonly sid: string;
  readonly events: CallEvent[];
  /** The caller's audio (48 kHz). */
  readonly source: Int16Array;
  /** The call's status-callback deliveries, parsed, in arrival order. */
  readonly webhooks: { readonly type: string; readonly kind?: string }[];
}

export async function withClientTurns(
  protocol: Protocol,
  options: Record<string, unknown>,
  format: Omit<AttachOptions, "sid">,
  check: (r: TurnsResult) => Promise<void>,
): Promise<void> {
  const key = `${protocol}-test-key`;
  await using fake = startFakeRecognizer({ protocol, key, utterances: UTTERANCES });
  const env = `ASR_TEST_${protocol.toUpperCase()}_KEY`;
  await using fx = await startAsrServer(
    {
      provider: protocol,
      url: fake.url,
      apiKeyEnv: env,
      keepAliveMs: 200,
      endpointingMs: ENDPOINT_MS,
      hangoverMs: 900,
      ...options,
    },
    { env: { [env]: key } },
  );
  const webhooks: { type: string; kind?: string }[] = [];
  const twoFinalHooks = Promise.withResolvers<void>();
  await using receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      webhooks.push(await req.json());
      const finals = webhooks.filter((w) => w.type === "transcript" && w.kind === "final");
      if (finals.length >= 2) twoFinalHooks.resolve();
      return new Response(null, { status: 204 });
    },
  );
  let sse!: ReturnType<typeof collectEvents>;
  const { app, sid, leg } = await callClient(fx, format, async (app, sid) => {
    // Listen before the caller's track exists, so that the tap's first event is seen.
    sse = collectEvents(app, sid);
    await sse.until((e) => e.length > 0, "the SSE stream's first status");
  }, `http://127.0.0.1:${receiver.addr.port}/status`);
  const source = readFixtureWav("turns-48k.wav").samples;
  await speak(leg, source, 48000, nowMicros());
  await sse.until((e) => transcripts(e, "final").length >= 2, "two finals");
  await sse.until((e) => transcripts(e, "end_of_turn").length >= 2, "two turn ends");
  await app.calls.hangup(sid);
  await sse.done;
  await fake.until(
    () => fake.connections.every((c) => c.closedNow),
    "the recognizer stream closed",
  );
  const guard = setTimeout(() => twoFinalHooks.reject(new Error("no final webhooks")), 30_000);
  await twoFinalHooks.promise.finally(() => clearTimeout(guard));
  await check({ fx, fake, sid, events: sse.events, source, webhooks });
}
