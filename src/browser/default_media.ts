/**
 * The page's default media: one MoQT connection per relay shard and one microphone shared by
 * every {@linkcode attachCaller} / {@linkcode attachCallee} that does not bring its own, so
 * that `attachCaller({ sid })` alone works in a page.
 *
 * The choice: the connection is made from the page's origin (or the `baseUrl` given to
 * {@linkcode configureDefaultMedia}): the relay URL and certificate hash come from
 * `GET /v1/relay/certificate` (the development certificate's `serverCertificateHashes`), the
 * token from {@linkcode configureDefaultMedia}, else from the page's `?token=` query
 * parameter; a call's connection goes to the relay shard that owns it
 * (`GET /v1/relay/placement/{sid}`). A connection is opened on first use, reused after, and
 * opened again on the next use once it has dropped. The microphone is `captureMicrophone()` with the configured
 * options, captured once.
 *
 * @module
 */
import { BrowserMoq } from "./moq_connection.ts";
import { captureMicrophone, type CaptureOptions, type MicrophoneCapture } from "./capture.ts";

/** Options for {@linkcode configureDefaultMedia}. */
export interface DefaultMediaOptions {
  /** The server's HTTP base URL [the page's origin]. */
  readonly baseUrl?: string;
  /** A token with `media:publish` / `media:subscribe` [the page's `?token=`]. */
  readonly token?: string;
  /** Overrides the certificate hash from `/v1/relay/certificate`. */
  readonly certificateHash?: string;
  /** Overrides the relay URL from `/v1/relay/certificate`. */
  readonly relayUrl?: string;
  /** Microphone settings for the default microphone. */
  readonly microphone?: CaptureOptions;
}

/** No token for the default connection: neither configured nor in the page's URL. */
export class MissingTokenError extends Error {
  /** Names the error in stack traces. */
  override readonly name = "MissingTokenError";
}

let settings: DefaultMediaOptions = {};
// By relay URL ("" for the certificate's): the page's default connections.
const connections = new Map<string, Promise<BrowserMoq>>();
let microphone: Promise<MicrophoneCapture> | undefined;

/**
 * Configures the page's default connection and microphone (call once, before the first
 * attach). A connection already open keeps its settings until it drops.
 *
 * @example
 * ```ts ignore
 * import { attachCaller, configureDefaultMedia } from "/sdk/browser.js";
 * configureDefaultMedia({ token });
 * const media = await attachCaller({ sid: call.sid });
 * ```
 */
export function configureDefaultMedia(options: DefaultMediaOptions): void {
  settings = { ...options };
}

function pageLocation(): { origin: string; search: string } | undefined {
  return (globalThis as { location?: { origin: string; search: string } }).location;
}

/**
 * The page's default MoQT connection for `sid`'s call: to the relay shard the server placed the
 * call on (`GET /v1/relay/placement/{sid}`, so the call's media crosses no shard), or without a
 * sid (or with a configured `relayUrl`) to the relay of `/v1/relay/certificate`. One
 * connection per relay URL, opened on first use, shared after, opened again once it has
 * dropped.
 *
 * @example
 * ```ts ignore
 * import { defaultMoq } from "/sdk/browser.js";
 * const moq = await defaultMoq(call.sid);
 * ```
 */
export async function defaultMoq(sid?: string): Promise<BrowserMoq> {
  const page = pageLocation();
  const token = settings.token ?? new URLSearchParams(page?.search ?? "").get("token");
  if (!token) {
    throw new MissingTokenError(
      "No token for the relay: call configureDefaultMedia({ token }) or open the page with ?token=",
    );
  }
  const base = settings.baseUrl ?? page?.origin;
  if (!base) throw new TypeError("No server to connect to: configure a baseUrl");
  let url = settings.relayUrl;
  if (url === undefined && sid !== undefined) {
    const placement = await fetch(
      new URL(`/v1/relay/placement/${encodeURIComponent(sid)}`, base),
      { headers: { authorization: `Bearer ${token}` } },
    );
    if (!placement.ok) throw new Error(`Cannot read the call's relay: ${placement.status}`);
    url = (await placement.json() as { url: string }).url;
  }
  const key = url ?? "";
  const open = connections.get(key);
  if (open) return await open;
  const connecting = (async () => {
    const response = await fetch(new URL("/v1/relay/certificate", base));
    if (!response.ok) throw new Error(`Cannot read the relay certificate: ${response.status}`);
    const cert = await response.json() as { url: string; sha256Base64: string };
    const moq = await BrowserMoq.connect({
      url: url ?? cert.url,
      // Every shard presents the server's certificate.
      certificateHash: settings.certificateHash ?? cert.sha256Base64,
      token,
    });
    moq.closed.then(() => {
      if (connections.get(key) === connecting) connections.delete(key);
    });
    return moq;
  })();
  connections.set(key, connecting);
  connecting.catch(() => {
    if (connections.get(key) === connecting) connections.delete(key);
  });
  return await connecting;
}

/**
 * The page's default microphone, captured once (a failed capture is retried on next use).
 *
 * @example
 * ```ts ignore
 * import { defaultMicrophone } from "/sdk/browser.js";
 * (await defaultMicrophone()).setMuted(true);
 * ```
 */
export function defaultMicrophone(): Promise<MicrophoneCapture> {
  if (microphone) return microphone;
  const capturing = microphone = captureMicrophone(settings.microphone);
  capturing.catch(() => {
    if (microphone === capturing) microphone = undefined;
  });
  return capturing;
}
