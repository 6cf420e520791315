/**
 * The recorder plugin: every call's `uplink` and `downlink` voice tracks into one stereo
 * WAV under `<data-dir>/recordings/`, optionally Ogg Opus copies, crash-safe.
 *
 * @module
 */
import { join } from "node:path";
import type { TrackConsumer } from "../../relay/model/mod.ts";
import { sidOf, trackFormatOf } from "../../voice/track.ts";
import { definePlugin, type Plugin } from "../define.ts";
import { CallRecording } from "./call_recording.ts";
import { OggOpusFile } from "./ogg_opus_file.ts";
import { parseRecorderOptions, type RecorderOptions } from "./options.ts";
import { repairRecordings } from "./repair.ts";
import { recordTrack } from "./track_recorder.ts";

/** A call being recorded and how many of its tracks are still live. */
interface ActiveCall {
  readonly recording: Promise<CallRecording>;
  live: number;
  linger: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The recorder plugin. Load it with `{ "module": "builtin:recorder", "options": { … } }`.
 *
 * - One stereo PCM16 WAV per call at `<data-dir>/recordings/<sid>.wav`: left = uplink,
 *   right = downlink, both decoded and resampled to `sampleRate` (default 16000), placed
 *   by capture timestamp (arrival time for tracks without one), silence in the gaps.
 * - With `ogg: true`, each Opus track also as `<sid>.<track>.opus`, packets untouched.
 * - Every `flushIntervalMs` (≤ 1 s) the new audio is appended, the header's sizes
 *   rewritten and the data synced; at start, files a crash left are repaired.
 * - `<sid>.json` next to the WAV holds the metadata the HTTP API serves.
 * - A recording closes `lingerMs` after its call's last track ended; a track of the same
 *   sid arriving later starts `<sid>.2.wav`.
 *
 * @example
 * ```ts ignore
 * import recorder from "./plugin.ts";
 * await host.start(recorder, { sampleRate: 16000, ogg: true });
 * ```
 */
const recorder: Plugin<RecorderOptions> = definePlugin<RecorderOptions>({
  name: "recorder",
  version: "0.1.0",
  async setup(ctx, rawOptions) {
    const options = parseRecorderOptions(rawOptions);
    const dir = join(ctx.dataDir, "recordings");
    await Deno.mkdir(dir, { recursive: true });
    const repaired = await repairRecordings(dir, ctx.log);
    if (repaired.length > 0) {
      ctx.log.warn("Recordings interrupted by a crash were repaired", {
        sids: repaired.map((r) => r.sid),
      });
    }
    const calls = new Map<string, ActiveCall>();
    const open = new Set<CallRecording>();

    const finish = async (sid: string, call: ActiveCall) => {
      if (calls.get(sid) === call) calls.delete(sid);
      const recording = await call.recording;
      const meta = await recording.finish();
      open.delete(recording);
      ctx.log.info("Recording completed", {
        sid,
        path: meta.path,
        duration: meta.duration,
        bytes: meta.bytes,
      });
    };

    const handle = async (track: TrackConsumer): Promise<void> => {
      const { namespace, name, capability } = track.info;
      const sid = sidOf(namespace);
      if (!sid || (name !== "uplink" && name !== "downlink")) {
        ctx.log.debug("Not a call track: not recorded", { namespace, name });
        return track.close();
      }
      const format = trackFormatOf(capability);
      if (!format) {
        ctx.log.warn("Unknown voice capability: track not recorded", { sid, name, capability });
        return track.close();
      }
      let call = calls.get(sid);
      if (!call) {
        const recording = CallRecording.open({
          dir,
          sid,
          sampleRate: options.sampleRate,
          reorderMs: options.reorderMs,
          sync: options.sync,
        });
        call = { recording, live: 0, linger: undefined };
        calls.set(sid, call);
        recording.then((r) => {
          open.add(r);
          ctx.log.info("Recording started", { sid, path: r.path });
        }, () => calls.delete(sid));
      }
      clearTimeout(call.linger);
      call.live++;
      try {
        const recording = await call.recording;
        const ogg = options.ogg && format.codec === "opus"
          ? await OggOpusFile.create(
            recording.path.replace(/\.wav$/, `.${name}.opus`),
            { tags: { SID: sid, TRACK: name }, sync: options.sync },
          )
          : undefined;
        if (ogg) recording.addOgg(ogg);
        await recordTrack(track, recording, { ogg });
      } finally {
        call.live--;
        if (call.live === 0 && !ctx.signal.aborted) {
          const ending = call;
          ending.linger = setTimeout(() => {
            finish(sid, ending).catch((error) =>
              ctx.log.error("Cannot complete recording", { sid, error })
            );
          }, options.lingerMs);
        }
      }
    };

    ctx.route("voice/*", handle);

    const timer = setInterval(() => {
      for (const recording of open) {
        recording.flush().catch((error) =>
          ctx.log.error("Cannot write recording", { sid: recording.sid, error })
        );
      }
    }, options.flushIntervalMs);

    return async () => {
      clearInterval(timer);
      for (const [sid, call] of [...calls]) {
        clearTimeout(call.linger);
        await finish(sid, call).catch((error) =>
          ctx.log.error("Cannot complete recording", { sid, error })
        );
      }
    };
  },
});

export default recorder;
