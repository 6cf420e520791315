/**
 * The AudioBridge: attach to a call's tracks (`voice/<sid>/uplink`, `voice/<sid>/downlink`)
 * as the server side ({@linkcode attach}) or as the caller ({@linkcode attachCaller}), read
 * received frames as an async iterable and `write()` frames back, in the codec, rate,
 * channels and frame duration you ask for. The bridge transcodes to and from what each
 * track carries (its capability tag), stamps capture times, and plays received audio out
 * through a {@linkcode PlayoutBuffer} that drops late frames, conceals gaps and keeps
 * latency bounded. It runs over a remote {@linkcode BridgeConnection} (a `MoqClient`) or
 * in-process (an `Origin`, a plugin's `PluginContext`).
 *
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { attach, attachCaller } from "@clutchcall/voice/bridge";
 * import { Origin } from "@clutchcall/voice/relay";
 *
 * const origin = new Origin();
 * await using phone = await attachCaller(origin, { sid: "CA1", codec: "g711_ulaw" });
 * await using agent = await attach(origin, { sid: "CA1", codec: "pcm16", sampleRate: 16000 });
 * phone.write(new Uint8Array(160).fill(0xff));
 * const frame = await agent.read();
 * assertEquals(frame?.samples?.length, 320); // 20 ms of 16 kHz PCM16
 * ```
 *
 * @module
 */
export * from "./audio_bridge.ts";
export * from "./connection.ts";
export * from "./format.ts";
export type { BridgeFrame, ReceiverStats } from "./frame_receiver.ts";
export type { SenderStats } from "./frame_sender.ts";
export * from "./playout_buffer.ts";
export type {
  Codec,
  FrameMs,
  MediaFormat,
  OpusApplication,
  OpusBackend,
  OpusBackendChoice,
  ResamplerRate,
  TranscoderOpusOptions,
} from "../codecs/mod.ts";
export type {
  GroupConsumer,
  GroupProducer,
  MoqObject,
  SubscribeOptions,
  TrackConsumer,
  TrackInfo,
  TrackProducer,
} from "../relay/model/mod.ts";
export type { Sid, VoiceDirection } from "../voice/mod.ts";
