/**
 * OpenAI Realtime transcription sessions (`wss://api.openai.com/v1/realtime?intent=transcription`),
 * as its public docs describe them: `Authorization: Bearer <key>` and
 * `OpenAI-Beta: realtime=v1`; the server opens with `transcription_session.created`; the
 * client configures the session with `transcription_session.update` (`input_audio_format`
 * `pcm16` = 24 kHz linear16, or `g711_ulaw` / `g711_alaw` untranscoded;
 * `input_audio_transcription` model and language; `turn_detection` server VAD) and streams
 * `input_audio_buffer.append` events with base64 audio. Results:
 * `input_audio_buffer.speech_started` / `speech_stopped` (`audio_start_ms`,
 * `audio_end_ms`, `item_id`), `conversation.item.input_audio_transcription.delta`
 * (`item_id`, `delta`) and `.completed` (`item_id`, `transcript`), `error`.
 *
 * Server VAD needs the silence to find turns, so this provider streams it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  numberField,
  parseJsonMessage,
  type ProviderSession,
  RecognizerProtocolError,
  type RecognizerProvider,
  type RecognizerResult,
  stringField,
} from "./provider.ts";

const FORMATS = { pcm16: "pcm16", g711_ulaw: "g711_ulaw", g711_alaw: "g711_alaw" } as const;
/** Base64 without copying the bytes (Node's encoder, built into Deno). */
const base64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

/** Items whose text is being assembled; older ones are forgotten. */
const MAX_ITEMS = 32;

interface Item {
  start: number;
  end: number;
  text: string;
}

/**
 * The OpenAI provider.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { openai } from "./openai.ts";
 * import { parseAsrTapOptions } from "./options.ts";
 * const options = parseAsrTapOptions({ provider: "openai" });
 * const pcm16 = { codec: "pcm16", sampleRate: 16000, channels: 1, frameMs: 20 } as const;
 * assertEquals(openai.format(pcm16, options), { encoding: "pcm16", sampleRate: 24000 });
 * ```
 */
export const openai: RecognizerProvider = {
  name: "openai",
  chunkMs: 100,
  minChunkMs: 0,
  needsSilence: true,
  format(track) {
    if (track.codec === "g711_ulaw" || track.codec === "g711_alaw") {
      return { encoding: track.codec, sampleRate: 8000 };
    }
    return { encoding: "pcm16", sampleRate: 24000 };
  },
  session({ url, key, format, options }): ProviderSession {
    const items = new Map<string, Item>();
    const item = (id: string): Item => {
      let found = items.get(id);
      if (!found) {
        items.set(id, found = { start: 0, end: 0, text: "" });
        for (const old of items.keys()) {
          if (items.size <= MAX_ITEMS) break;
          items.delete(old);
        }
      }
      return found;
    };
    const itemId = (message: Record<string, unknown>): string => {
      const id = stringField(message.item_id);
      if (id === undefined) throw new RecognizerProtocolError(`${message.type} without item_id`);
      return id.slice(0, 128);
    };
    return {
      url,
      headers: { authorization: `Bearer ${key}`, "openai-beta": "realtime=v1" },
      waitsForReady: true,
      opening: () => [JSON.stringify({
        type: "transcription_session.update",
        session: {
          input_audio_format: FORMATS[format.encoding],
          input_audio_transcription: {
            model: options.model ?? "gpt-4o-transcribe",
            language: options.language.slice(0, 2),
          },
          turn_detection: {
            type: "server_vad",
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: options.endpointingMs,
          },
        },
      })],
      audio: (bytes) => JSON.stringify({ type: "input_audio_buffer.append", audio: base64(bytes) }),
      keepAlive: () => undefined,
      finalize: () => undefined,
      closing: () => undefined,
      parse(data): RecognizerResult[] {
        const message = parseJsonMessage(data);
        switch (message.type) {
          case "transcription_session.created":
            return [{ kind: "ready" }];
          case "transcription_session.updated":
          case "input_audio_buffer.committed":
          case "conversation.item.created":
            return [];
          case "input_audio_buffer.speech_started": {
            const at = numberField(message.audio_start_ms) ?? 0;
            const it = item(itemId(message));
            it.start = it.end = at;
            return [{ kind: "speech_start", at }];
          }
          case "input_audio_buffer.speech_stopped": {
            const it = item(itemId(message));
            it.end = numberField(message.audio_end_ms) ?? it.end;
            return [];
          }
          case "conversation.item.input_audio_transcription.delta": {
            const it = item(itemId(message));
            const delta = stringField(message.delta) ?? "";
            if (it.text.length + delta.length > 100_000) return [];
            it.text += delta;
            if (!options.interimResults || it.text.trim() === "") return [];
            return [{ kind: "partial", text: it.text.trim(), start: it.start, end: it.end }];
          }
          case "conversation.item.input_audio_transcription.completed": {
            const id = itemId(message);
            const it = item(id);
            items.delete(id);
            const text = (stringField(message.transcript) ?? it.text).trim();
            const out: RecognizerResult[] = [];
            if (text !== "") out.push({ kind: "final", text, start: it.start, end: it.end });
            out.push({ kind: "end_of_turn", end: it.end });
            return out;
          }
          case "conversation.item.input_audio_transcription.failed":
          case "error": {
            const error = message.error as Record<string, unknown> | undefined;
            const reason = stringField(error?.message) ?? "unknown error";
            const code = stringField(error?.code);
            return [{
              kind: "error",
              message: `OpenAI: ${reason}${code ? ` (${code})` : ""}`,
              fatal: code === "invalid_api_key",
            }];
          }
          default:
            // The realtime API adds event types over time: unknown ones are not an error.
            if (typeof message.type === "string") return [];
            throw new RecognizerProtocolError("Message without a type");
        }
      },
    };
  },
};
