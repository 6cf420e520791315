/**
 * Taps one call track into a recognizer: reads the track's objects, turns each frame into
 * the stream's format (G.711 passes through untouched where the provider takes it; the
 * rest is decoded and resampled to linear16 by one stateful transcoder), leaves silence
 * out when the provider allows it (the on-box WebRTC VAD opens the gate, with pre-roll and
 * hangover; the gate closing sends a finalize), cuts the audio into the provider's chunk
 * size, and turns the results into `transcript` events on the call's timeline.
 *
 * @module
 */
import { createTranscoder, type Transcoder } from "../../codecs/transcoder.ts";
import { decodeAlaw, decodeUlaw } from "../../codecs/g711.ts";
import { pcm16FromBytes } from "../../codecs/pcm16.ts";
import type { Logger } from "../../log/mod.ts";
import type { MoqObject, TrackConsumer } from "../../relay/model/mod.ts";
import { VoiceActivityDetector } from "../../rtp/vad.ts";
import { nowMicros, trackFormatOf } from "../../voice/track.ts";
import type { AsrEvent, TranscriptEvent, TranscriptTrack } from "../../voice/transcript.ts";
import { type AudioChunk, RecognizerLink } from "./link.ts";
import type { ResolvedAsrTapOptions } from "./options.ts";
import type { RecognizerProvider, RecognizerResult, StreamFormat } from "./provider.ts";
import type { StreamTimeline } from "./timeline.ts";

/** The start of a call's audio, shared by its tracks. */
export interface CallClock {
  /** Capture time (µs since the epoch) of the first frame seen on any of the call's tracks. */
  originMicros: number | undefined;
}

/** What a track tap needs. */
export interface TrackTapOptions {
  readonly sid: string;
  readonly track: TranscriptTrack;
  readonly provider: RecognizerProvider;
  readonly url: string;
  readonly key: string;
  readonly options: ResolvedAsrTapOptions;
  readonly clock: CallClock;
  readonly log: Logger;
  /** Puts an event on the call. */
  readonly emit: (event: TranscriptEvent | AsrEvent) => void;
}

/** A frame's audio converted, with the PCM the VAD hears (if it runs). */
interface Frame {
  readonly bytes: Uint8Array;
  readonly callMs: number;
  readonly durationMs: number;
}

/** A silent byte of each encoding (PCM16: both bytes of 0). */
const SILENCE = { pcm16: 0, g711_ulaw: 0xff, g711_alaw: 0xd5 } as const;

/** The longest plausible jump between two frames' capture times. */
const MAX_JUMP_MS = 600_000;

/**
 * Reads `consumer` to its end into a recognizer. Resolves when the track ended and the
 * recognizer's last results came (or `closeTimeoutMs` passed). Never rejects for the
 * recognizer's or the track's faults: those become `asr` events and logs.
 *
 * @throws {RangeError} when the track's capability names no voice codec.
 *
 * @example
 * ```ts ignore
 * ctx.route("voice/*", (track) => tapTrack(track, { sid, track: "uplink", provider: deepgram, … }));
 * ```
 */
export async function tapTrack(consumer: TrackConsumer, o: TrackTapOptions): Promise<void> {
  const source = trackFormatOf(consumer.info.capability);
  if (!source) {
    throw new RangeError(`Cannot tap track: "${consumer.info.capability}" names no voice codec`);
  }
  const { provider, options, clock } = o;
  const format: StreamFormat = provider.format(source, options);
  const passthrough = format.encoding === source.codec && format.sampleRate === source.sampleRate;
  using transcoder: Transcoder | undefined = passthrough ? undefined : await createTranscoder({
    from: source,
    to: { codec: "pcm16", sampleRate: format.sampleRate, channels: 1, frameMs: 20 },
  });
  const gate = options.gateSilence && !provider.needsSilence;
  const vadRate = format.encoding === "pcm16" ? format.sampleRate : 8000;
  using vad = gate && [8000, 16000, 48000].includes(vadRate)
    ? await VoiceActivityDetector.create({ sampleRate: vadRate, hangoverMs: options.hangoverMs })
    : undefined;

  const at = () => new Date().toISOString();
  const base = { type: "transcript" as const, sid: o.sid, track: o.track };
  let turn: { texts: string[]; start: number | undefined; end: number } = {
    texts: [],
    start: undefined,
    end: 0,
  };
  const onResult = (result: RecognizerResult, timeline: StreamTimeline) => {
    if (result.kind === "speech_start") {
      const ms = timeline.toCall(result.at);
      o.emit({ ...base, at: at(), kind: "speech_start", text: "", start: ms, end: ms });
    } else if (result.kind === "partial" || result.kind === "final") {
      const start = timeline.toCall(result.start);
      const end = Math.max(start, timeline.toCall(result.end));
      const confidence = result.confidence === undefined
        ? {}
        : { confidence: Math.min(1, Math.max(0, result.confidence)) };
      o.emit({
        ...base,
        at: at(),
        kind: result.kind,
        text: result.text,
        start,
        end,
        ...confidence,
      });
      if (result.kind === "final" && turn.texts.length < 1000) {
        turn.texts.push(result.text);
        turn.start ??= start;
        turn.end = Math.max(turn.end, end);
      }
    } else if (result.kind === "end_of_turn") {
      if (turn.texts.length === 0 && result.end === undefined) return;
      const end = result.end === undefined ? turn.end : timeline.toCall(result.end);
      o.emit({
        ...base,
        at: at(),
        kind: "end_of_turn",
        text: turn.texts.join(" "),
        start: turn.start ?? end,
        end: Math.max(end, turn.start ?? end),
      });
      turn = { texts: [], start: undefined, end: 0 };
    }
  };
  const link = new RecognizerLink({
    provider,
    format,
    url: o.url,
    key: o.key,
    options,
    log: o.log,
    onResult,
    onState: (state, detail) =>
      o.emit({
        type: "asr",
        sid: o.sid,
        at: at(),
        track: o.track,
        provider: provider.name,
        state,
        ...detail,
      }),
  });

  // Chunking: contiguous frames up to the provider's chunk size.
  let pending: Frame[] = [];
  const flushChunk = () => {
    if (pending.length === 0) return;
    let durationMs = pending.reduce((sum, f) => sum + f.durationMs, 0);
    const parts = pending.map((f) => f.bytes);
    if (durationMs < provider.minChunkMs) {
      // Too short for the recognizer: pad with silence of the stream's encoding.
      const pad = Math.ceil((provider.minChunkMs - durationMs) * bytesPerMs);
      parts.push(new Uint8Array(pad).fill(SILENCE[format.encoding]));
      durationMs += pad / bytesPerMs;
    }
    const bytes = parts.length === 1 ? parts[0] : concat(parts);
    const chunk: AudioChunk = { bytes, callMs: pending[0].callMs, durationMs };
    pending = [];
    link.write(chunk);
  };
  const push = (frame: Frame) => {
    const last = pending.at(-1);
    if (last && Math.abs(last.callMs + last.durationMs - frame.callMs) > 1) flushChunk();
    pending.push(frame);
    const ms = pending.reduce((sum, f) => sum + f.durationMs, 0);
    if (ms >= provider.chunkMs) flushChunk();
  };

  // The gate: pre-roll kept while silent, sent when speech starts.
  const preRoll: Frame[] = [];
  const preRollFrames = Math.ceil(options.preRollMs / 20);
  let open = false;
  const bytesPerMs = (format.encoding === "pcm16" ? 2 : 1) * format.sampleRate / 1000;

  let arrival: boolean | undefined;
  let lastCallMs: number | undefined;
  const callTime = (object: MoqObject): number => {
    const capture = object.timestamp;
    arrival ??= capture === undefined;
    const micros = arrival || capture === undefined ? nowMicros() : capture;
    clock.originMicros ??= micros;
    let ms = (micros - clock.originMicros) / 1000;
    if (lastCallMs !== undefined && (ms < lastCallMs - 1000 || ms > lastCallMs + MAX_JUMP_MS)) {
      ms = lastCallMs + 20; // a bogus timestamp: right after the previous frame
    }
    lastCallMs = ms = Math.max(0, ms);
    return ms;
  };

  const frame = (object: MoqObject) => {
    const callMs = callTime(object);
    const outputs = transcoder ? transcoder.transcode(object.payload) : [object.payload];
    let offsetMs = 0;
    for (const bytes of outputs) {
      const durationMs = bytes.length / bytesPerMs;
      if (durationMs <= 0) continue;
      const f: Frame = { bytes, callMs: callMs + offsetMs, durationMs };
      offsetMs += durationMs;
      if (!vad) {
        push(f);
        continue;
      }
      const pcm = format.encoding === "pcm16"
        ? pcm16FromBytes(bytes)
        : format.encoding === "g711_ulaw"
        ? decodeUlaw(bytes)
        : decodeAlaw(bytes);
      let speaking = open;
      try {
        vad.process(pcm, Math.round(callMs * 1000));
        speaking = vad.speaking;
      } catch (error) {
        // A frame of an odd size (a peer's 30 ms packets at a rate fvad refuses): send it.
        o.log.debug("VAD skipped a frame", { error: (error as Error).message });
        speaking = true;
      }
      if (speaking) {
        if (!open) {
          open = true;
          for (const kept of preRoll.splice(0)) push(kept);
        }
        push(f);
      } else {
        if (open) {
          open = false;
          flushChunk();
          link.finalize();
        }
        preRoll.push(f);
        if (preRoll.length > preRollFrames) preRoll.shift();
      }
    }
  };

  try {
    for (;;) {
      const group = await consumer.nextGroup();
      if (!group) break;
      for (;;) {
        let object: MoqObject | undefined;
        try {
          object = await group.readObject();
        } catch (error) {
          o.log.debug("A group ended early", { error: (error as Error).message });
          break; // keep what came, go on with the next group
        }
        if (!object) break;
        frame(object);
      }
    }
  } catch (error) {
    o.log.debug("Track ended", { error: (error as Error)?.message });
  } finally {
    consumer.close();
    flushChunk();
    await link.close();
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
