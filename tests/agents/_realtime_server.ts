/**
 * A local server speaking the OpenAI Realtime API (GA), written from its public reference:
 * `session.created` on connect, `session.updated` for each `session.update`, an input buffer
 * fed by `input_audio_buffer.append`, server VAD (energy, 500 ms silence) announcing
 * `input_audio_buffer.speech_started` / `speech_stopped`, and on each turn end a response:
 * `response.created`, `response.output_item.added`, `response.output_audio.delta` chunks
 * (faster than real time, as the service sends them), `response.output_audio.done`, then
 * `response.done` once the reply's duration has passed, unless `response.cancel` came first.
 *
 * @module
 */
import { decodeAlaw, decodeUlaw } from "../../src/codecs/g711.ts";

import { guard } from "./_fixture.ts";

/** A message as received. */
export interface RealtimeReceived {
  readonly message: Record<string, unknown>;
  readonly at: number;
}

/** One client connection. */
export interface RealtimeConnection {
  readonly received: RealtimeReceived[];
  readonly violations: string[];
  readonly headers: Headers;
  readonly url: string;
  /** All appended audio, decoded (µ-law, or A-law when the session asked for `audio/pcma`). */
  readonly input: Int16Array[];
  next(match: (m: Record<string, unknown>) => boolean): Promise<RealtimeReceived>;
  send(message: unknown): void;
  close(code?: number): void;
}

/** Options: what each response says. */
export interface RealtimeServerOptions {
  /** The reply audio, in the session's G.711 (µ-law bytes unless it asked for A-law). */
  readonly reply: Uint8Array;
  /** Audio delta size, bytes [800 = 100 ms]. */
  readonly chunk?: number;
}

/** A running server. */
export interface RealtimeServer extends AsyncDisposable {
  readonly url: string;
  connection(n?: number): Promise<RealtimeConnection>;
}

let ids = 0;
const id = (prefix: string) => `${prefix}_${++ids}`;

/** Starts the server on a free port. */
export function startRealtimeServer(options: RealtimeServerOptions): RealtimeServer {
  const connections: RealtimeConnection[] = [];
  const waiting: Array<{ n: number; resolve: (c: RealtimeConnection) => void }> = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const seen = { headers: new Headers(req.headers), url: req.url };
    const { socket, response } = Deno.upgradeWebSocket(req);
    const conn = serve(socket, seen, options);
    socket.addEventListener("open", () => {
      connections.push(conn);
      for (const w of [...waiting]) {
        if (connections.length > w.n) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(connections[w.n]);
        }
      }
    });
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/v1/realtime`,
    connection(n = 0) {
      if (connections.length > n) return Promise.resolve(connections[n]);
      return new Promise((resolve) => waiting.push({ n, resolve }));
    },
    async [Symbol.asyncDispose]() {
      for (const c of connections) c.close();
      await server.shutdown();
    },
  };
}

function serve(
  socket: WebSocket,
  req: { headers: Headers; url: string },
  options: RealtimeServerOptions,
): RealtimeConnection {
  const received: RealtimeReceived[] = [];
  const violations: string[] = [];
  const input: Int16Array[] = [];
  const waiters: Array<
    { match: (m: Record<string, unknown>) => boolean; resolve: (r: RealtimeReceived) => void }
  > = [];
  const send = (m: Record<string, unknown>) =>
    socket.readyState === WebSocket.OPEN &&
    socket.send(JSON.stringify({ event_id: id("event"), ...m }));
  // Server VAD state (energy per 20 ms of input).
  let speaking = false;
  let voicedMs = 0;
  let silentMs = 0;
  let inputMs = 0;
  let response: { id: string; item: string; timer?: ReturnType<typeof setTimeout> } | undefined;
  let sessionUpdated = false;
  let decode = decodeUlaw;
  let silenceDurationMs = 500;
  const chunk = options.chunk ?? 800;

  const respond = () => {
    const r: { id: string; item: string; timer?: ReturnType<typeof setTimeout> } = {
      id: id("resp"),
      item: id("item"),
    };
    response = r;
    send({
      type: "response.created",
      response: { id: r.id, object: "realtime.response", status: "in_progress" },
    });
    send({
      type: "response.output_item.added",
      response_id: r.id,
      output_index: 0,
      item: {
        id: r.item,
        object: "realtime.item",
        type: "message",
        status: "in_progress",
        role: "assistant",
        content: [],
      },
    });
    for (let at = 0; at < options.reply.length; at += chunk) {
      let s = "";
      for (const b of options.reply.subarray(at, at + chunk)) s += String.fromCharCode(b);
      send({
        type: "response.output_audio.delta",
        response_id: r.id,
        item_id: r.item,
        output_index: 0,
        content_index: 0,
        delta: btoa(s),
      });
    }
    send({
      type: "response.output_audio.done",
      response_id: r.id,
      item_id: r.item,
      output_index: 0,
      content_index: 0,
    });
    r.timer = setTimeout(() => {
      if (response !== r) return;
      response = undefined;
      send({ type: "response.done", response: { id: r.id, status: "completed" } });
    }, options.reply.length / 8 + 500);
  };

  socket.onopen = () =>
    send({ type: "session.created", session: { type: "realtime", id: id("sess") } });
  socket.onmessage = (event) => {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(String(event.data));
    } catch {
      violations.push("not JSON");
      return;
    }
    const r = { message: m, at: performance.timeOrigin + performance.now() };
    received.push(r);
    switch (m.type) {
      case "session.update": {
        const s = m.session as Record<string, unknown> | undefined;
        if (s?.type !== "realtime") violations.push("session.update without session.type realtime");
        sessionUpdated = true;
        const vad = (s?.audio as { input?: { turn_detection?: { silence_duration_ms?: number } } })
          ?.input?.turn_detection;
        silenceDurationMs = vad?.silence_duration_ms ?? 500;
        const format = (s?.audio as { input?: { format?: { type?: string } } })?.input?.format;
        decode = format?.type === "audio/pcma" ? decodeAlaw : decodeUlaw;
        send({ type: "session.updated", session: s });
        break;
      }
      case "input_audio_buffer.append": {
        if (!sessionUpdated) violations.push("append before session.update");
        if (typeof m.audio !== "string") {
          violations.push("append without audio");
          break;
        }
        const pcm = decode(Uint8Array.from(atob(m.audio), (c) => c.charCodeAt(0)));
        input.push(pcm);
        let peak = 0;
        for (const x of pcm) peak = Math.max(peak, Math.abs(x));
        const ms = pcm.length / 8;
        inputMs += ms;
        if (peak > 1000) {
          voicedMs += ms;
          silentMs = 0;
          if (!speaking && voicedMs >= 100) {
            speaking = true;
            send({
              type: "input_audio_buffer.speech_started",
              audio_start_ms: Math.round(inputMs - voicedMs),
              item_id: id("item"),
            });
          }
        } else {
          silentMs += ms;
          if (silentMs >= 60) voicedMs = 0;
          if (speaking && silentMs >= silenceDurationMs) {
            speaking = false;
            send({
              type: "input_audio_buffer.speech_stopped",
              audio_end_ms: Math.round(inputMs - silentMs),
            });
            send({ type: "input_audio_buffer.committed", item_id: id("item") });
            respond();
          }
        }
        break;
      }
      case "response.cancel":
        if (!response) {
          send({
            type: "error",
            error: {
              type: "invalid_request_error",
              code: "response_cancel_not_active",
              message: "no active response",
            },
          });
        } else {
          clearTimeout(response.timer);
          send({ type: "response.done", response: { id: response.id, status: "cancelled" } });
          response = undefined;
        }
        break;
      case "conversation.item.truncate":
        if (
          typeof m.item_id !== "string" || m.content_index !== 0 ||
          typeof m.audio_end_ms !== "number"
        ) {
          violations.push("truncate fields");
        }
        send({
          type: "conversation.item.truncated",
          item_id: m.item_id,
          content_index: 0,
          audio_end_ms: m.audio_end_ms,
        });
        break;
      default:
        violations.push(`unexpected client event ${String(m.type)}`);
    }
    for (const w of [...waiters]) {
      if (w.match(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r);
      }
    }
  };
  socket.onclose = () => {
    if (response) clearTimeout(response.timer);
  };
  return {
    received,
    violations,
    input,
    headers: req.headers,
    url: req.url,
    next(match) {
      const seen = received.find((r) => match(r.message));
      if (seen) return Promise.resolve(seen);
      return guard(
        new Promise((resolve) => waiters.push({ match, resolve })),
        `a message matching ${match.toString().replace(/\s+/g, " ").slice(0, 120)}`,
      );
    },
    send: (message) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message)),
    close: (code = 1000) => {
      if (response) clearTimeout(response.timer);
      if (socket.readyState === WebSocket.OPEN) socket.close(code);
    },
  };
}
