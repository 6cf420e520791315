/**
 * Deepgram live streaming (`wss://api.deepgram.com/v1/listen`), as its public docs describe
 * it: raw binary audio frames, the format in query parameters (`encoding` = `linear16`,
 * `mulaw` or `alaw`, `sample_rate`, `channels`, `interim_results`, `endpointing`,
 * `utterance_end_ms`, `vad_events`, `language`, `model`), `Authorization: Token <key>`;
 * text control messages `{"type":"KeepAlive"}` (during silence: the server closes a stream
 * idle for 10 s), `{"type":"Finalize"}` (flush pending results) and
 * `{"type":"CloseStream"}`. Results: `Results` (`is_final`, `speech_final`, `start`,
 * `duration` in seconds, `channel.alternatives[0].transcript` / `confidence`),
 * `SpeechStarted` (`timestamp`), `UtteranceEnd` (`last_word_end`), `Metadata` (the
 * answer to `CloseStream`).
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

const ENCODINGS = { pcm16: "linear16", g711_ulaw: "mulaw", g711_alaw: "alaw" } as const;

/**
 * The Deepgram provider.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { deepgram } from "./deepgram.ts";
 * import { parseAsrTapOptions } from "./options.ts";
 * const options = parseAsrTapOptions({ provider: "deepgram" });
 * const format = deepgram.format({ codec: "g711_ulaw", sampleRate: 8000, channels: 1, frameMs: 20 }, options);
 * assertEquals(format, { encoding: "g711_ulaw", sampleRate: 8000 });
 * ```
 */
export const deepgram: RecognizerProvider = {
  name: "deepgram",
  chunkMs: 20,
  minChunkMs: 0,
  needsSilence: false,
  // Deepgram takes both G.711 laws as they are (encoding=mulaw / alaw).
  format: (track, options) => trackFormat(track, options, ["g711_ulaw", "g711_alaw"]),
  session({ url, key, format, options }): ProviderSession {
    let turnOpen = false;
    return {
      url: withQuery(url, {
        encoding: ENCODINGS[format.encoding],
        sample_rate: String(format.sampleRate),
        channels: "1",
        interim_results: String(options.interimResults),
        endpointing: String(options.endpointingMs),
        utterance_end_ms: String(Math.max(1000, options.endpointingMs)),
        vad_events: "true",
        language: options.language,
        model: options.model ?? "nova-3",
      }),
      headers: { authorization: `Token ${key}` },
      waitsForReady: false,
      ...binaryAudioJsonControl({
        keepAlive: "KeepAlive",
        finalize: "Finalize",
        closing: "CloseStream",
      }),
      parse(data): RecognizerResult[] {
        const message = parseJsonMessage(data);
        switch (message.type) {
          case "Results": {
            const start = numberField(message.start);
            const duration = numberField(message.duration);
            const channel = message.channel as { alternatives?: unknown } | undefined;
            const alternative = Array.isArray(channel?.alternatives)
              ? channel.alternatives[0] as Record<string, unknown> | undefined
              : undefined;
            const text = stringField(alternative?.transcript);
            if (start === undefined || duration === undefined || text === undefined) {
              throw new RecognizerProtocolError(
                "Results without start, duration or channel.alternatives[0].transcript",
              );
            }
            const out: RecognizerResult[] = [];
            const confidence = numberField(alternative?.confidence);
            const result = {
              text: text.trim(),
              start: start * 1000,
              end: (start + duration) * 1000,
              ...(confidence === undefined ? {} : { confidence }),
            };
            if (message.is_final === true) {
              if (result.text !== "") {
                out.push({ kind: "final", ...result });
                turnOpen = true;
              }
              if (message.speech_final === true && turnOpen) {
                out.push({ kind: "end_of_turn", end: result.end });
                turnOpen = false;
              }
            } else if (result.text !== "") {
              out.push({ kind: "partial", ...result });
            }
            return out;
          }
          case "SpeechStarted": {
            const at = numberField(message.timestamp);
            if (at === undefined) {
              throw new RecognizerProtocolError("SpeechStarted without timestamp");
            }
            return [{ kind: "speech_start", at: at * 1000 }];
          }
          case "UtteranceEnd": {
            if (!turnOpen) return [];
            turnOpen = false;
            const end = numberField(message.last_word_end);
            return [{ kind: "end_of_turn", ...(end === undefined ? {} : { end: end * 1000 }) }];
          }
          case "Metadata":
            return [];
          case "Error": {
            const reason = stringField(message.description) ?? stringField(message.message) ??
              "unknown error";
            return [{ kind: "error", message: `Deepgram: ${reason}`, fatal: false }];
          }
          default:
            throw unknownMessageType(message);
        }
      },
    };
  },
};
