/**
 * Local recognizers speaking Deepgram live, AssemblyAI v3 and OpenAI realtime transcription
 * as their public docs describe them (Deno.serve WebSockets on loopback). Each checks the
 * upgrade (key, query) like the real service (401 on a wrong key), records what it
 * receives (audio decoded by the negotiated encoding, control messages, in arrival order)
 * and answers with scripted results: an energy segmenter over the received audio finds
 * each utterance, and the k-th one gets `utterances[k]` as its text, timed in stream ms.
 *
 * @module
 */
import { decodeAlaw, decodeUlaw } from "../../../src/codecs/g711.ts";
import { Buffer } from "node:buffer";
import { Changes } from "../../_lib/wait.ts";

export type Protocol = "deepgram" | "assemblyai" | "openai";

/** What one connection does besides answering normally. */
export type Behaviour =
  | "normal"
  /** Closes (1011) once it sent its first final. */
  | "drop-after-first-final"
  /** Answers every message with garbage. */
  | "garbage"
  /** Sends one 4 MiB text frame after the first audio. */
  | "huge"
  /** Accepts the upgrade and never says anything (no Begin / session.created). */
  | "silent";

/** A message received, in order. */
export type Received =
  | { readonly kind: "audio"; readonly bytes: Uint8Array; readonly at: number }
  | { readonly kind: "text"; readonly message: Record<string, unknown>; readonly at: number };

export interface RecognizerConnection {
  readonly index: number;
  readonly url: URL;
  readonly headers: Headers;
  readonly received: Received[];
  /** The negotiated encoding and rate. */
  readonly format: { encoding: "pcm16" | "g711_ulaw" | "g711_alaw"; sampleRate: number };
  /** Everything received as audio, decoded to PCM at `format.sampleRate`. */
  pcm(): Int16Array;
  /** Control messages of `type`. */
  texts(type: string): Record<string, unknown>[];
  /** Utterances found, stream ms. */
  readonly utterances: { start: number; end: number; text: string }[];
  readonly closed: Promise<void>;
  /** True once the socket closed. */
  readonly closedNow: boolean;
}

export interface FakeRecognizer extends AsyncDisposable {
  readonly url: string;
  readonly connections: RecognizerConnection[];
  /** Upgrades refused (wrong key). */
  readonly refused: number;
  /**
   * Resolves when `check` holds, re-checked after every message received; rejects after
   * `guardMs` (a hang guard, not a timing assertion) [60000].
   */
  until(check: () => boolean, what: string, guardMs?: number): Promise<void>;
}

export interface FakeRecognizerOptions {
  readonly protocol: Protocol;
  readonly key: string;
  readonly utterances: readonly string[];
  /** The behaviour of connection `index` ["normal"]. */
  readonly behaviour?: (index: number) => Behaviour;
  /** RMS above which a 20 ms window is speech [300]. */
  readonly threshold?: number;
}

/**
 * The fake's segmenter run over a whole signal: the utterances it would find, in ms of
 * `pcm` (for a test's expectations on the call's timeline).
 */
export function segmentSpeech(
  pcm: Int16Array,
  sampleRate: number,
  { threshold = 300, endpointMs = 300 }: { threshold?: number; endpointMs?: number } = {},
): { start: number; end: number }[] {
  const window = sampleRate / 50;
  const out: { start: number; end: number }[] = [];
  let speech: { start: number; lastVoiced: number } | undefined;
  for (let i = 0, now = 0; i + window <= pcm.length; i += window, now += 20) {
    const voiced = rms(pcm.subarray(i, i + window)) > threshold;
    if (voiced && !speech) speech = { start: now, lastVoiced: now + 20 };
    else if (voiced && speech) speech.lastVoiced = now + 20;
    else if (speech && now + 20 - speech.lastVoiced >= endpointMs) {
      out.push({ start: speech.start, end: speech.lastVoiced });
      speech = undefined;
    }
  }
  if (speech) out.push({ start: speech.start, end: speech.lastVoiced });
  return out;
}

export function startFakeRecognizer(options: FakeRecognizerOptions): FakeRecognizer {
  const { protocol, key, utterances, behaviour = () => "normal", threshold = 300 } = options;
  const connections: RecognizerConnection[] = [];
  const changes = new Changes();
  const poke = () => changes.notify();
  let refused = 0;
  let nextUtterance = 0;
  const sockets = new Set<WebSocket>();

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    const auth = req.headers.get("authorization");
    const expected = protocol === "deepgram"
      ? `Token ${key}`
      : protocol === "assemblyai"
      ? key
      : `Bearer ${key}`;
    if (auth !== expected) {
      refused++;
      poke();
      return new Response("Unauthorized", { status: 401 });
    }
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("Expected a WebSocket", { status: 426 });
    }
    const headers = new Headers(req.headers); // readable only before the upgrade
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    sockets.add(socket);
    const index = connections.length;
    const mode = behaviour(index);
    const format = formatOf(protocol, url);
    // The silence that ends an utterance, as each protocol configures it.
    let endpointMs = Number(
      url.searchParams.get("endpointing") ??
        url.searchParams.get("min_end_of_turn_silence_when_confident") ?? 300,
    );
    const received: Received[] = [];
    const found: { start: number; end: number; text: string }[] = [];
    const closed = Promise.withResolvers<void>();
    const pcmParts: Int16Array[] = [];
    const conn: RecognizerConnection = {
      index,
      url,
      headers,
      received,
      format,
      pcm: () => concatPcm(pcmParts),
      texts: (type) =>
        received.flatMap((r) => r.kind === "text" && r.message.type === type ? [r.message] : []),
      utterances: found,
      closed: closed.promise,
      closedNow: false,
    };
    connections.push(conn);

    // The segmenter: 20 ms windows over the received stream.
    const window = format.sampleRate / 50;
    let carry = new Int16Array(0);
    let streamMs = 0;
    let speech: { start: number; lastVoiced: number; partials: number } | undefined;
    let turnOrder = 0;
    const send = (message: unknown) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    };
    const itemId = () => `item_${index}_${turnOrder}`;
    const textOf = () => utterances[nextUtterance % utterances.length];
    const words = (text: string, start: number, end: number, final: boolean) => {
      const list = text.split(" ");
      const step = (end - start) / list.length;
      return list.map((w, i) => ({
        start: Math.round(start + i * step),
        end: Math.round(start + (i + 1) * step),
        text: w,
        confidence: 0.9,
        word_is_final: final,
      }));
    };
    const partial = (s: { start: number }, now: number) => {
      const full = textOf();
      const part = full.split(" ").slice(0, 1 + Math.floor((now - s.start) / 500)).join(" ");
      if (protocol === "deepgram") {
        send(results(s.start, now, part, false, false));
      } else if (protocol === "assemblyai") {
        send({
          type: "Turn",
          turn_order: turnOrder,
          turn_is_formatted: false,
          end_of_turn: false,
          transcript: "",
          end_of_turn_confidence: 0.1,
          words: words(part, s.start, now, false),
        });
      } else {
        send({
          type: "conversation.item.input_audio_transcription.delta",
          item_id: itemId(),
          content_index: 0,
          delta: part.split(" ").length === 1 ? part : ` ${part.split(" ").at(-1)}`,
        });
      }
    };
    const endUtterance = (s: { start: number; lastVoiced: number }, fromFinalize = false) => {
      const text = textOf();
      nextUtterance++;
      const end = s.lastVoiced;
      found.push({ start: s.start, end, text });
      if (protocol === "deepgram") {
        send({ ...results(s.start, end, text, true, !fromFinalize), from_finalize: fromFinalize });
        send({ type: "UtteranceEnd", channel: [0, 1], last_word_end: end / 1000 });
      } else if (protocol === "assemblyai") {
        const base = {
          type: "Turn",
          turn_order: turnOrder,
          end_of_turn: true,
          end_of_turn_confidence: 0.9,
          words: words(text, s.start, end, true),
        };
        send({ ...base, turn_is_formatted: false, transcript: text });
        send({ ...base, turn_is_formatted: true, transcript: formatted(text) });
      } else {
        send({ type: "input_audio_buffer.speech_stopped", audio_end_ms: end, item_id: itemId() });
        send({ type: "input_audio_buffer.committed", item_id: itemId(), previous_item_id: null });
        send({
          type: "conversation.item.input_audio_transcription.completed",
          item_id: itemId(),
          content_index: 0,
          transcript: text,
        });
      }
      turnOrder++;
      if (mode === "drop-after-first-final" && found.length === 1) {
        socket.close(1011, "internal error");
      }
    };
    const onAudio = (bytes: Uint8Array) => {
      const pcm = decode(format.encoding, bytes);
      pcmParts.push(pcm);
      const all = new Int16Array(carry.length + pcm.length);
      all.set(carry);
      all.set(pcm, carry.length);
      let i = 0;
      for (; i + window <= all.length; i += window) {
        const voiced = rms(all.subarray(i, i + window)) > threshold;
        const now = streamMs;
        streamMs += 20;
        if (voiced && !speech) {
          speech = { start: now, lastVoiced: now + 20, partials: 0 };
          if (protocol === "deepgram") {
            send({ type: "SpeechStarted", channel: [0], timestamp: now / 1000 });
          } else if (protocol === "assemblyai") {
            send({ type: "SpeechStarted", timestamp: now });
          } else {
            send({
              type: "input_audio_buffer.speech_started",
              audio_start_ms: now,
              item_id: itemId(),
            });
          }
        } else if (voiced && speech) {
          speech.lastVoiced = now + 20;
          if (now - speech.start >= 500 * (speech.partials + 1)) {
            speech.partials++;
            partial(speech, now + 20);
          }
        } else if (speech && now + 20 - speech.lastVoiced >= endpointMs) {
          const s = speech;
          speech = undefined;
          endUtterance(s);
        }
      }
      carry = all.slice(i);
    };
    const flush = () => {
      if (speech) {
        const s = speech;
        speech = undefined;
        endUtterance(s, true);
      }
    };

    socket.onopen = () => {
      if (mode === "silent") return;
      if (protocol === "assemblyai") {
        send({
          type: "Begin",
          id: `session-${index}`,
          expires_at: Math.floor(Date.now() / 1000) + 3600,
        });
      } else if (protocol === "openai") {
        send({ type: "transcription_session.created", session: { id: `sess_${index}` } });
      }
    };
    socket.onmessage = (event) => {
      const at = performance.now();
      if (typeof event.data === "string") {
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(event.data);
        } catch {
          message = { type: "(not JSON)", raw: event.data };
        }
        received.push({ kind: "text", message, at });
        if (mode === "garbage") socket.send("%%% not json {");
        else if (protocol === "openai" && message.type === "input_audio_buffer.append") {
          const audio = Buffer.from(String(message.audio), "base64");
          onAudio(new Uint8Array(audio.buffer, audio.byteOffset, audio.byteLength));
        } else if (protocol === "openai" && message.type === "transcription_session.update") {
          const session = message.session as Record<string, unknown> | undefined;
          const vad = session?.turn_detection as Record<string, unknown> | undefined;
          if (typeof vad?.silence_duration_ms === "number") endpointMs = vad.silence_duration_ms;
          const fmt = session?.input_audio_format;
          if (fmt === "g711_ulaw" || fmt === "g711_alaw") {
            (conn.format as { encoding: string; sampleRate: number }).encoding = fmt;
            (conn.format as { encoding: string; sampleRate: number }).sampleRate = 8000;
          }
          send({ type: "transcription_session.updated", session: message.session });
        } else if (message.type === "Finalize" || message.type === "ForceEndpoint") {
          flush();
        } else if (message.type === "CloseStream") {
          flush();
          send({
            type: "Metadata",
            request_id: `req-${index}`,
            duration: streamMs / 1000,
            channels: 1,
          });
          socket.close(1000);
        } else if (message.type === "Terminate") {
          flush();
          send({
            type: "Termination",
            audio_duration_seconds: Math.round(streamMs / 1000),
            session_duration_seconds: Math.round(streamMs / 1000),
          });
          socket.close(1000);
        }
      } else {
        const bytes = new Uint8Array(event.data as ArrayBuffer);
        received.push({ kind: "audio", bytes, at });
        if (mode === "garbage") socket.send("%%% not json {");
        else if (mode === "huge" && received.filter((r) => r.kind === "audio").length === 1) {
          socket.send("x".repeat(4 << 20));
        } else onAudio(bytes);
      }
      poke();
    };
    socket.onclose = () => {
      (conn as { closedNow: boolean }).closedNow = true;
      sockets.delete(socket);
      closed.resolve();
      poke();
    };
    socket.onerror = () => {};
    return response;
  });

  return {
    url: `ws://127.0.0.1:${server.addr.port}${
      protocol === "deepgram"
        ? "/v1/listen"
        : protocol === "assemblyai"
        ? "/v3/ws"
        : "/v1/realtime?intent=transcription"
    }`,
    connections,
    get refused() {
      return refused;
    },
    until(check, what, guardMs = 60_000) {
      return changes.until(`${what} at the fake recognizer`, check, { timeoutMs: guardMs });
    },
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.close(1001);
      await server.shutdown();
    },
  };
}

function results(start: number, end: number, text: string, isFinal: boolean, speechFinal: boolean) {
  return {
    type: "Results",
    channel_index: [0, 1],
    duration: (end - start) / 1000,
    start: start / 1000,
    is_final: isFinal,
    speech_final: speechFinal,
    channel: { alternatives: [{ transcript: text, confidence: 0.98, words: [] }] },
    metadata: { request_id: "req", model_info: { name: "fake" } },
  };
}

function formatted(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1) + ".";
}

function formatOf(protocol: Protocol, url: URL): RecognizerConnection["format"] {
  if (protocol === "openai") return { encoding: "pcm16", sampleRate: 24000 };
  const rate = Number(url.searchParams.get("sample_rate"));
  const encoding = url.searchParams.get("encoding");
  const map: Record<string, RecognizerConnection["format"]["encoding"]> = {
    linear16: "pcm16",
    mulaw: "g711_ulaw",
    alaw: "g711_alaw",
    pcm_s16le: "pcm16",
    pcm_mulaw: "g711_ulaw",
  };
  return { encoding: map[encoding ?? ""] ?? "pcm16", sampleRate: rate || 16000 };
}

function decode(
  encoding: RecognizerConnection["format"]["encoding"],
  bytes: Uint8Array,
): Int16Array {
  if (encoding === "g711_ulaw") return decodeUlaw(bytes);
  if (encoding === "g711_alaw") return decodeAlaw(bytes);
  const out = new Int16Array(bytes.length >> 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

function rms(x: Int16Array): number {
  let sum = 0;
  for (const v of x) sum += v * v;
  return Math.sqrt(sum / Math.max(1, x.length));
}

function concatPcm(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
