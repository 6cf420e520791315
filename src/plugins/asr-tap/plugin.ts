/**
 * The ASR tap plugin: routed by capability, it subscribes to each call's voice tracks
 * without the publisher knowing, streams each tapped track to a streaming speech
 * recognizer and puts the results on the call as `transcript` events (and `asr` events
 * for the recognizer link: connected, reconnecting, failed, gaps).
 *
 * @module
 */
import { sidOf } from "../../voice/track.ts";
import { definePlugin, type Plugin } from "../define.ts";
import { assemblyai } from "./assemblyai.ts";
import { deepgram } from "./deepgram.ts";
import { openai } from "./openai.ts";
import {
  type AsrProviderName,
  type AsrTapOptions,
  DEFAULT_KEY_ENVS,
  DEFAULT_URLS,
  parseAsrTapOptions,
} from "./options.ts";
import type { RecognizerProvider } from "./provider.ts";
import { type CallClock, tapTrack } from "./track_tap.ts";

/** The providers by option name. */
export const PROVIDERS: Readonly<Record<AsrProviderName, RecognizerProvider>> = Object.freeze({
  deepgram,
  assemblyai,
  openai,
});

interface TappedCall {
  readonly clock: CallClock;
  live: number;
}

/**
 * The ASR tap. Load it with
 * `{ "module": "builtin:asr-tap", "options": { "provider": "deepgram", … } }`.
 *
 * - The key is read once at start from the environment variable `apiKeyEnv` (default
 *   `DEEPGRAM_API_KEY`, `ASSEMBLYAI_API_KEY` or `OPENAI_API_KEY`); a missing one stops the
 *   plugin with a clear error. It goes in the upgrade request's headers only, never in a
 *   URL or a log, and plain `ws://` is accepted for localhost only.
 * - Each tapped track (`tracks`, default the caller's `uplink`) gets its own recognizer
 *   stream; a recognizer that fails costs that track's transcript, never the call, and
 *   other calls never notice.
 *
 * @example
 * ```ts ignore
 * import asrTap from "./plugin.ts";
 * await host.start(asrTap, { provider: "deepgram", apiKeyEnv: "DEEPGRAM_API_KEY" });
 * ```
 */
const asrTap: Plugin<AsrTapOptions> = definePlugin<AsrTapOptions>({
  name: "asr-tap",
  version: "0.1.0",
  setup(ctx, rawOptions) {
    const options = parseAsrTapOptions(rawOptions);
    const provider = PROVIDERS[options.provider];
    const keyEnv = options.apiKeyEnv ?? DEFAULT_KEY_ENVS[options.provider];
    const key = Deno.env.get(keyEnv);
    if (!key) {
      throw new TypeError(
        `Cannot start asr-tap: the environment variable ${keyEnv} (apiKeyEnv) holding the ` +
          `${options.provider} key is not set`,
      );
    }
    const url = options.url ?? DEFAULT_URLS[options.provider];
    const calls = new Map<string, TappedCall>();
    const taps = new Set<Promise<void>>();

    const tap = async (track: Parameters<Parameters<typeof ctx.route>[1]>[0]) => {
      const { namespace, name, capability } = track.info;
      const sid = sidOf(namespace);
      if (!sid || !(options.tracks as string[]).includes(name)) return track.close();
      let call = calls.get(sid);
      if (!call) calls.set(sid, call = { clock: { originMicros: undefined }, live: 0 });
      call.live++;
      const log = ctx.log.child({ sid, track: name });
      log.info("Transcribing track", { provider: options.provider, capability });
      try {
        await tapTrack(track, {
          sid,
          track: name as "uplink" | "downlink",
          provider,
          url,
          key,
          options,
          clock: call.clock,
          log,
          emit: (event) => ctx.calls.emit(event),
        });
      } finally {
        if (--call.live === 0 && calls.get(sid) === call) calls.delete(sid);
      }
    };

    ctx.route(options.match, (track) => {
      // Never reject: a rejected handler would detach the plugin for every call.
      const running = tap(track).catch((error) =>
        ctx.log.error("Cannot transcribe track", {
          namespace: track.info.namespace.join("/"),
          name: track.info.name,
          error,
        })
      );
      taps.add(running);
      running.finally(() => taps.delete(running));
    });

    ctx.log.info("ASR tap ready", {
      provider: options.provider,
      tracks: options.tracks,
      match: options.match,
      keyEnv,
    });
    // The host closes every routed track when the plugin stops; each tap then closes its
    // recognizer stream (waiting at most closeTimeoutMs for the last results).
    return async () => {
      await Promise.all([...taps]);
    };
  },
});

export default asrTap;
