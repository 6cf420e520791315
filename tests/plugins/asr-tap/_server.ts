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
  const waiters = new Set<() => void>();
  const abort = new AbortController();
  const done = (async () => {
    try {
      for await (const event of voice.calls.events(sid, { signal: abort.signal })) {
        events.push(event);
        for (const w of [...waiters]) w();
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
      return new Promise<void>((resolve, reject) => {
        const guard = setTimeout(() => {
          waiters.delete(test);
          reject(new Error(`SSE: gave up waiting for ${what}: ${JSON.stringify(events)}`));
        }, guardMs);
        const test = () => {
          if (!check(events)) return;
          waiters.delete(test);
          clearTimeout(guard);
          resolve();
        };
        waiters.add(test);
        test();
      });
    },
  };
}

/** Transcript events of `events` (optionally of one kind). */
export function transcripts(events: readonly CallEvent[], kind?: string) {
  return events.flatMap((e) => e.type === "transcript" && (!kind || e.kind === kind) ? [e] : []);
}
