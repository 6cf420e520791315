/**
 * The tap in a plugin host on an in-process origin, for the bad-input tests: tracks are
 * published straight into the origin (µ-law frames with capture timestamps), and the
 * events the plugin emits are collected from the host's call-event sink.
 *
 * @module
 */
import { type PluginCallEvent, PluginHost } from "../../../src/plugins/mod.ts";
import { Origin, type TrackProducer } from "../../../src/relay/model/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { FRAMES_PER_GROUP, nowMicros } from "../../../src/voice/track.ts";
import asrTap from "../../../src/plugins/asr-tap/mod.ts";
import { Changes } from "../../_lib/wait.ts";

export interface TapHost extends AsyncDisposable {
  readonly origin: Origin;
  readonly host: PluginHost;
  readonly events: PluginCallEvent[];
  readonly logs: string[];
  until(
    check: (events: PluginCallEvent[]) => boolean,
    what: string,
    guardMs?: number,
  ): Promise<void>;
}

export async function startTapHost(
  options: Record<string, unknown>,
  key: string,
): Promise<TapHost> {
  const origin = new Origin();
  const logs: string[] = [];
  const log = createLogger({
    level: "debug",
    json: true,
    sink: (l) => {
      logs.push(l);
      if (Deno.env.get("ASR_LOG")) console.error(l);
    },
  });
  const events: PluginCallEvent[] = [];
  const changes = new Changes();
  const host = new PluginHost({
    origin,
    log,
    dataDir: "/tmp",
    calls: {
      emit: (e) => {
        events.push(e);
        changes.notify();
      },
      on: () => () => {},
    },
  });
  const env = "ASR_TEST_HOST_KEY";
  Deno.env.set(env, key);
  try {
    const status = await host.start(asrTap, { apiKeyEnv: env, ...options } as never);
    if (status.state !== "running") throw new Error(`asr-tap did not start: ${status.error}`);
  } finally {
    Deno.env.delete(env);
  }
  return {
    origin,
    host,
    events,
    logs,
    until(check, what, guardMs = 60_000) {
      return changes.until(what, () => check(events), {
        timeoutMs: guardMs,
        context: () => JSON.stringify(events),
      });
    },
    async [Symbol.asyncDispose]() {
      await host.close();
    },
  };
}

/**
 * Publishes `frames` as call `sid`'s uplink (µ-law), frame k stamped `start + k·20 ms`,
 * `paceMs` apart; resolves when all were written and the track closed.
 */
export async function publishUlaw(
  origin: Origin,
  sid: string,
  frames: readonly Uint8Array[],
  { paceMs = 5, startMicros = nowMicros() }: { paceMs?: number; startMicros?: number } = {},
): Promise<void> {
  const track: TrackProducer = origin.publishTrack({
    namespace: ["voice", sid],
    name: "uplink",
    capability: "voice/g711_ulaw",
  });
  let group;
  for (let k = 0; k < frames.length; k++) {
    if (k % FRAMES_PER_GROUP === 0) {
      group?.close();
      group = track.appendGroup();
    }
    group!.write({
      id: k % FRAMES_PER_GROUP,
      payload: frames[k],
      timestamp: startMicros + k * 20_000,
    });
    if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
  }
  group?.close();
  track.close();
}
