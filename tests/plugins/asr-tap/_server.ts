/**
 * A real VoiceServer (in process, free ports, temp data dir) running `builtin:asr-tap`
 * against a fake recognizer, plus helpers: an SDK client, an SSE reader collecting call
 * events, and a `client:` caller leg that speaks a fixture over MoQT.
 *
 * @module
 */
import type { Voice } from "../../../src/sdk/mod.ts";
import type { CallEvent } from "../../../src/calls/events.ts";
import { type ServerFixture, startServer } from "../../calls/_server.ts";
import { Changes } from "../../_lib/wait.ts";

/** A running server with the tap: the Calls tests' fixture. */
export type AsrServer = ServerFixture;

/** Starts a server with the tap configured by `options` (and `sip`, when given). */
export function startAsrServer(
  options: Record<string, unknown>,
  { env = {}, sip }: { env?: Record<string, string>; sip?: Record<string, unknown> } = {},
): Promise<AsrServer> {
  return startServer(env, undefined, {
    plugins: [{ module: "builtin:asr-tap", options }],
    // Status callbacks to this machine's test receiver.
    webhooks: { allowNetworks: ["127.0.0.0/8"] },
    ...(sip ? { sip } : {}),
  });
}

/** Collects a call's SSE events until the stream ends or `stop` is called. */
export function collectEvents(voice: Voice, sid: string): {
  readonly events: CallEvent[];
  until(check: (events: CallEvent[]) => boolean, what: string, guardMs?: number): Promise<void>;
  readonly done: Promise<void>;
  stop(): void;
} {
  const events: CallEvent[] = [];
  const changes = new Changes();
  const abort = new AbortController();
  const done = (async () => {
    try {
      for await (const event of voice.calls.events(sid, { signal: abort.signal })) {
        events.push(event);
        changes.notify();
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  })();
  return {
    events,
    done,
    stop: () => abort.abort(),
    until(check, what, guardMs = 60_000) {
      return changes.until(`${what} on SSE`, () => check(events), {
        timeoutMs: guardMs,
        context: () => JSON.stringify(events),
      });
    },
  };
}

/** Transcript events of `events` (optionally of one kind). */
export function transcripts(events: readonly CallEvent[], kind?: string) {
  return events.flatMap((e) => e.type === "transcript" && (!kind || e.kind === kind) ? [e] : []);
}
