/**
 * AssemblyAI Universal Streaming v3 (`wss://streaming.assemblyai.com/v3/ws`), as its public
 * docs describe it: binary PCM (`encoding=pcm_s16le`, or `pcm_mulaw` for µ-law legs, no
 * transcoding) in 50–1000 ms chunks, `sample_rate` and `format_turns` in the query, the key
 * in `Authorization`. The server opens with `Begin` (`id`, `expires_at`), then sends `Turn`
 * messages (`turn_order`, `end_of_turn`, `turn_is_formatted`, `transcript` of the
 * finalized words, `words[]` with `start`/`end` ms, `confidence`, `word_is_final`) and, after
 * the client's `{"type":"Terminate"}`, `Termination`. `{"type":"ForceEndpoint"}` ends the
 * current turn (sent on hold and after speech); `{"type":"KeepAlive"}` resets the
 * inactivity timer.
 *
 * @module
 */
import {
  binaryAudioJsonControl,
  numberField,
  parseJsonMessage,
  type ProviderSession,
  RecognizerProtocolError,
  type RecognizerProvider,
  type RecognizerResult,
  stringField,
  trackFormat,
  unknownMessageType,
  withQuery,
} from "./provider.ts";

interface Word {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly confidence?: number;
}

function words(value: unknown): Word[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RecognizerProtocolError("Turn words is not an array");
  const out: Word[] = [];
  for (const w of value.slice(0, 10_000)) {
    const start = numberField(w?.start), end = numberField(w?.end), text = stringField(w?.text);
    if (start === undefined || end === undefined || text === undefined) {
      throw new RecognizerProtocolError("Turn word without start, end or text");
    }
    const confidence = numberField(w?.confidence);
    out.push({ start, end, text, ...(confidence === undefined ? {} : { confidence }) });
  }
  return out;
}

/**
 * The AssemblyAI v3 provider.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { assemblyai } from "./assemblyai.ts";
 * import { parseAsrTapOptions } from "./options.ts";
 * const options = parseAsrTapOptions({ provider: "assemblyai" });
 * const opus = { codec: "opus", sampleRate: 48000, channels: 1, frameMs: 20 } as const;
 * assertEquals(assemblyai.format(opus, options), { encoding: "pcm16", sampleRate: 16000 });
 * ```
 */
export const assemblyai: RecognizerProvider = {
  name: "assemblyai",
  chunkMs: 100,
  minChunkMs: 50,
  needsSilence: false,
  // AssemblyAI takes µ-law (pcm_mulaw) but not A-law.
  format: (track, options) => trackFormat(track, options, ["g711_ulaw"]),
  session({ url, key, format, options }): ProviderSession {
    let lastFinalTurn = -1;
    const english = options.language === "en" || options.language.startsWith("en-");
    return {
      url: withQuery(url, {
        sample_rate: String(format.sampleRate),
        encoding: format.encoding === "g711_ulaw" ? "pcm_mulaw" : "pcm_s16le",
        format_turns: "true",
        min_end_of_turn_silence_when_confident: String(Math.max(160, options.endpointingMs)),
        speech_model: options.model ??
          (english ? "universal-streaming-english" : "universal-streaming-multilingual"),
      }),
      headers: { authorization: key },
      waitsForReady: true,
      ...binaryAudioJsonControl({
        keepAlive: "KeepAlive",
        finalize: "ForceEndpoint",
        closing: "Terminate",
      }),
      parse(data): RecognizerResult[] {
        const message = parseJsonMessage(data);
        switch (message.type) {
          case "Begin":
            return [{ kind: "ready" }];
          case "Turn": {
            const order = numberField(message.turn_order);
            const transcript = stringField(message.transcript);
            if (order === undefined || transcript === undefined) {
              throw new RecognizerProtocolError("Turn without turn_order or transcript");
            }
            const ws = words(message.words);
            const start = ws[0]?.start ?? 0;
            const end = ws.at(-1)?.end ?? start;
            if (message.end_of_turn !== true) {
              // `transcript` holds the finalized words; the words list has the rest too.
              const text = ws.length > 0 ? ws.map((w) => w.text).join(" ") : transcript;
              return text.trim() === "" ? [] : [{ kind: "partial", text: text.trim(), start, end }];
            }
            // With format_turns the turn ends twice: unformatted, then formatted. Emit once.
            if (message.turn_is_formatted !== true || order <= lastFinalTurn) return [];
            lastFinalTurn = order;
            const confidences = ws.map((w) => w.confidence).filter((c) => c !== undefined);
            const confidence = confidences.length > 0
              ? confidences.reduce((a, b) => a + b, 0) / confidences.length
              : undefined;
            const out: RecognizerResult[] = [];
            if (transcript.trim() !== "") {
              out.push({
                kind: "final",
                text: transcript.trim(),
                start,
                end,
                ...(confidence === undefined ? {} : { confidence }),
              });
            }
            out.push({ kind: "end_of_turn", end });
            return out;
          }
          case "SpeechStarted": {
            const at = numberField(message.timestamp) ?? 0;
            return [{ kind: "speech_start", at }];
          }
          case "Termination":
            return [{ kind: "closed" }];
          case "Error": {
            const reason = stringField(message.error) ?? "unknown error";
            return [{ kind: "error", message: `AssemblyAI: ${reason}`, fatal: false }];
          }
          default:
            throw unknownMessageType(message);
        }
      },
    };
  },
};
