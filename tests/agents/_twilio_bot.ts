/**
 * A local bot for Twilio's bidirectional Media Streams, written from Twilio's public
 * "Media Streams - WebSocket Messages" page: it accepts the engine's WebSocket, checks every
 * message against the documented shapes (recording violations), and lets a test script what
 * the bot sends back.
 *
 * @module
 */

import { decodeUlaw } from "../../src/codecs/g711.ts";
import { guard } from "./_fixture.ts";

/** A message as received, with its arrival time. */
export interface Received {
  readonly message: Record<string, unknown>;
  /** `performance.timeOrigin + performance.now()` at arrival, ms. */
  readonly at: number;
}

/** One engine connection as the bot sees it. */
export interface BotConnection {
  readonly received: Received[];
  /** Where a message broke the documented protocol. */
  readonly violations: string[];
  /** Request headers of the upgrade. */
  readonly headers: Headers;
  /** Resolves with the first message (seen or future) matching. */
  next(match: (m: Record<string, unknown>) => boolean): Promise<Received>;
  send(message: unknown): void;
  sendRaw(data: string | Uint8Array): void;
  close(code?: number): void;
  readonly closed: Promise<void>;
}

/** A running bot server. */
export interface Bot extends AsyncDisposable {
  readonly url: string;
  /** Connections in arrival order. */
  readonly connections: BotConnection[];
  /** Resolves with the n-th connection (0-based) once it is open. */
  connection(n?: number): Promise<BotConnection>;
}

/** Starts the bot on a free port; `onConnection` runs for each engine connection. */
export function startTwilioBot(onConnection?: (conn: BotConnection) => void): Bot {
  const connections: BotConnection[] = [];
  const waiting: Array<{ n: number; resolve: (c: BotConnection) => void }> = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const headers = new Headers(req.headers);
    const { socket, response } = Deno.upgradeWebSocket(req);
    const conn = connect(socket, headers);
    socket.addEventListener("open", () => {
      connections.push(conn);
      onConnection?.(conn);
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
    url: `ws://127.0.0.1:${server.addr.port}/media`,
    connections,
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

function connect(socket: WebSocket, headers: Headers): BotConnection {
  const received: Received[] = [];
  const violations: string[] = [];
  const waiters: Array<
    { match: (m: Record<string, unknown>) => boolean; resolve: (r: Received) => void }
  > = [];
  const closed = Promise.withResolvers<void>();
  const state = { sequence: 0, chunk: 0, streamSid: undefined as string | undefined, lastTs: -1 };
  socket.onmessage = (event) => {
    if (typeof event.data !== "string") {
      violations.push("binary frame (Media Streams sends text frames only)");
      return;
    }
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(event.data);
    } catch {
      violations.push(`not JSON: ${event.data.slice(0, 40)}`);
      return;
    }
    violations.push(...check(message, state, received.length));
    const r = { message, at: performance.timeOrigin + performance.now() };
    received.push(r);
    for (const w of [...waiters]) {
      if (w.match(message)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r);
      }
    }
  };
  socket.onclose = () => closed.resolve();
  socket.onerror = () => closed.resolve();
  return {
    received,
    violations,
    headers,
    next(match) {
      const seen = received.find((r) => match(r.message));
      if (seen) return Promise.resolve(seen);
      return guard(
        new Promise((resolve) => waiters.push({ match, resolve })),
        `a message matching ${match.toString().replace(/\s+/g, " ").slice(0, 120)}`,
      );
    },
    send: (message) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message)),
    sendRaw: (data) => socket.readyState === WebSocket.OPEN && socket.send(data),
    close: (code = 1000) => {
      if (socket.readyState === WebSocket.OPEN) socket.close(code);
    },
    closed: closed.promise,
  };
}

const isNumeric = (v: unknown) => typeof v === "string" && /^\d+$/.test(v);

/** The documented shape of each message Twilio sends. */
function check(
  m: Record<string, unknown>,
  state: { sequence: number; chunk: number; streamSid: string | undefined; lastTs: number },
  index: number,
): string[] {
  const bad: string[] = [];
  const where = `message ${index} (${String(m.event)})`;
  if (index === 0 && m.event !== "connected") {
    bad.push(`${where}: the first message must be connected`);
  }
  if (m.event === "connected") {
    if (index !== 0) bad.push(`${where}: connected must come first`);
    if (m.protocol !== "Call" || m.version !== "1.0.0") bad.push(`${where}: protocol/version`);
    return bad;
  }
  if (!isNumeric(m.sequenceNumber)) bad.push(`${where}: sequenceNumber must be a numeric string`);
  else if (Number(m.sequenceNumber) !== ++state.sequence) {
    bad.push(`${where}: sequenceNumber ${m.sequenceNumber}, expected ${state.sequence}`);
  }
  if (typeof m.streamSid !== "string") bad.push(`${where}: streamSid missing`);
  else if (state.streamSid && m.streamSid !== state.streamSid) {
    bad.push(`${where}: streamSid changed`);
  }
  switch (m.event) {
    case "start": {
      if (index !== 1) bad.push(`${where}: start must follow connected`);
      const s = m.start as Record<string, unknown> | undefined;
      if (!s) return [...bad, `${where}: no start object`];
      state.streamSid = s.streamSid as string;
      if (s.streamSid !== m.streamSid) bad.push(`${where}: start.streamSid differs`);
      for (const key of ["accountSid", "callSid", "streamSid"]) {
        if (typeof s[key] !== "string") bad.push(`${where}: start.${key} missing`);
      }
      if (JSON.stringify(s.tracks) !== '["inbound"]') bad.push(`${where}: tracks`);
      if (typeof s.customParameters !== "object") bad.push(`${where}: customParameters`);
      const f = s.mediaFormat as Record<string, unknown> | undefined;
      if (f?.encoding !== "audio/x-mulaw" || f?.sampleRate !== 8000 || f?.channels !== 1) {
        bad.push(`${where}: mediaFormat`);
      }
      return bad;
    }
    case "media": {
      const media = m.media as Record<string, unknown> | undefined;
      if (!media) return [...bad, `${where}: no media object`];
      if (media.track !== "inbound") bad.push(`${where}: track ${media.track}`);
      if (!isNumeric(media.chunk) || Number(media.chunk) !== ++state.chunk) {
        bad.push(`${where}: chunk ${media.chunk}, expected "${state.chunk}"`);
      }
      if (!isNumeric(media.timestamp)) bad.push(`${where}: timestamp must be a numeric string`);
      else if (Number(media.timestamp) < state.lastTs) bad.push(`${where}: timestamp went back`);
      else state.lastTs = Number(media.timestamp);
      if (typeof media.payload !== "string" || atob(media.payload).length !== 160) {
        bad.push(`${where}: payload must be 160 bytes of base64 µ-law`);
      }
      return bad;
    }
    case "dtmf": {
      const d = m.dtmf as Record<string, unknown> | undefined;
      if (d?.track !== "inbound_track" || typeof d?.digit !== "string") bad.push(`${where}: dtmf`);
      return bad;
    }
    case "mark": {
      const mark = m.mark as Record<string, unknown> | undefined;
      if (typeof mark?.name !== "string") bad.push(`${where}: mark.name`);
      return bad;
    }
    case "stop": {
      const s = m.stop as Record<string, unknown> | undefined;
      if (typeof s?.accountSid !== "string" || typeof s?.callSid !== "string") {
        bad.push(`${where}: stop`);
      }
      return bad;
    }
    default:
      return [...bad, `${where}: not a message Twilio sends`];
  }
}

/** µ-law bytes → base64. */
export function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** base64 → bytes. */
export function unb64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * What the bot heard: every `media` payload (µ-law) decoded and placed at its `timestamp` (ms
 * since the stream's first frame), as a Twilio bot places it, in a buffer of `samples`.
 */
export function botHeard(conn: BotConnection, samples: number): Int16Array {
  const heard = new Int16Array(samples);
  for (const r of conn.received) {
    if (r.message.event !== "media") continue;
    const m = r.message.media as { timestamp: string; payload: string };
    const at = Number(m.timestamp) * 8;
    if (at + 160 <= heard.length) heard.set(decodeUlaw(unb64(m.payload)), at);
  }
  return heard;
}
