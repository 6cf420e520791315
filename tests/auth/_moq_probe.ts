/**
 * A raw MoQT control-stream peer for the auth tests, over real raw QUIC (`moq-00`) or real
 * WebTransport (Deno's client): it sends CLIENT_SETUP with or without a token, then single
 * requests, and reads the relay's replies message by message, so each test sees the exact
 * session close code or request error.
 *
 * @module
 */
import { connectMoqQuic } from "../../src/relay/transport/mod.ts";
import {
  type ControlMessage,
  DRAFT14_VERSION,
  encodeAuthToken,
  encodeControlMessage,
  readControlMessage,
  SetupParameter,
  StreamReader,
} from "../../src/relay/wire/draft14/mod.ts";
import type { TlsCertificate } from "../../src/server/certificate.ts";

export type ProbeKind = "quic" | "webtransport";

/** How the probe presents its token. */
export interface ProbeOptions {
  readonly port: number;
  readonly cert: TlsCertificate;
  /** Sent as `?jwt=` on the WebTransport URL. */
  readonly queryToken?: string;
  /** Sent as CLIENT_SETUP's AUTHORIZATION_TOKEN (USE_VALUE). */
  readonly setupToken?: string;
  /** Raw AUTHORIZATION_TOKEN parameter bytes (for malformed structures). */
  readonly setupTokenBytes?: Uint8Array;
}

/** A connected probe. */
export interface Probe extends AsyncDisposable {
  /** The relay's answer to CLIENT_SETUP, or undefined when it closed instead. */
  readonly setupReply: ControlMessage | undefined;
  /** How the connection ended (`code` NaN for an abrupt end). */
  readonly closed: Promise<{ code: number; reason: string }>;
  send(message: ControlMessage): Promise<void>;
  /** Reads until a reply of `type` for `requestId` (skipping requests the relay makes). */
  reply(
    type: ControlMessage["type"],
    requestId: number,
    timeoutMs?: number,
  ): Promise<ControlMessage>;
  /** True when the connection is still open after `ms`. */
  stillOpen(ms?: number): Promise<boolean>;
}

const encoder = new TextEncoder();

export async function probe(kind: ProbeKind, options: ProbeOptions): Promise<Probe> {
  const { readable, writable, closed, close } = kind === "quic"
    ? await openQuic(options)
    : await openWebTransport(options);
  const writer = writable.getWriter();
  const reader = new StreamReader(readable);
  const parameters = new Map<number, number | Uint8Array>([[SetupParameter.MAX_REQUEST_ID, 100]]);
  const tokenBytes = options.setupTokenBytes ??
    (options.setupToken === undefined ? undefined : encodeAuthToken({
      aliasType: "use_value",
      tokenType: 0,
      value: encoder.encode(options.setupToken),
    }));
  if (tokenBytes) parameters.set(SetupParameter.AUTHORIZATION_TOKEN, tokenBytes);
  if (kind === "quic") parameters.set(SetupParameter.PATH, encoder.encode("/moq"));
  await writer.write(
    encodeControlMessage({ type: "client_setup", versions: [DRAFT14_VERSION], parameters }),
  );
  const setupReply = await Promise.race([
    readControlMessage(reader).catch(() => undefined),
    closed.then(() => undefined),
  ]);
  let ended = false;
  closed.then(() => ended = true);
  return {
    setupReply,
    closed,
    send: (message) => writer.write(encodeControlMessage(message)),
    async reply(type, requestId, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`No ${type} for request ${requestId}`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const message = await Promise.race([
          readControlMessage(reader),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`No ${type} for request ${requestId}`)),
              left,
            );
          }),
        ]).finally(() => clearTimeout(timer));
        if (!message) throw new Error(`Control stream ended before ${type}`);
        if (message.type === type && "requestId" in message && message.requestId === requestId) {
          return message;
        }
      }
    },
    async stillOpen(ms = 100) {
      await new Promise((r) => setTimeout(r, ms));
      return !ended;
    },
    async [Symbol.asyncDispose]() {
      close();
      await closed;
    },
  };
}

interface Opened {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

async function openQuic({ port, cert }: ProbeOptions): Promise<Opened> {
  const transport = await connectMoqQuic({ hostname: "127.0.0.1", port, caCerts: [cert.certPem] });
  const stream = await transport.openBidi();
  return {
    readable: stream.readable,
    writable: stream.writable,
    closed: transport.closed,
    close: () => transport.close({ code: 0, reason: "probe done" }),
  };
}

async function openWebTransport({ port, cert, queryToken }: ProbeOptions): Promise<Opened> {
  const url = new URL(`https://127.0.0.1:${port}/moq`);
  if (queryToken !== undefined) url.searchParams.set("jwt", queryToken);
  const hash = Uint8Array.from(cert.sha256Hex.match(/../g)!, (h) => parseInt(h, 16));
  const wt = new WebTransport(url, {
    serverCertificateHashes: [{ algorithm: "sha-256", value: hash }],
  });
  await wt.ready;
  const stream = await wt.createBidirectionalStream();
  const closed = wt.closed.then(
    (info) => ({ code: info.closeCode ?? 0, reason: info.reason ?? "" }),
    (error) => ({ code: NaN, reason: String(error?.message ?? error) }),
  );
  return {
    readable: stream.readable as ReadableStream<Uint8Array>,
    writable: stream.writable as WritableStream<Uint8Array>,
    closed,
    close: () => {
      try {
        wt.close({ closeCode: 0, reason: "probe done" });
      } catch {
        // Already closed.
      }
    },
  };
}
