/**
 * {@linkcode Softphone}: a browser phone on the Calls API and the relay. It registers as
 * `client:<identity>` (rung over `GET /v1/clients/{identity}/incoming`), dials, answers,
 * rejects, hangs up, mutes and sends DTMF (`POST /v1/calls/{sid}/digits`), follows the
 * call's status on its SSE stream, and carries the audio over one MoQT connection
 * (WebTransport, one token) to the relay shard the server placed the call on
 * (`GET /v1/relay/placement/{sid}`), so its media crosses no shard. When the network changes
 * or the relay connection drops, it reconnects and re-attaches a call that is still live.
 *
 * ```text
 *   idle ──dial──▶ active ◀──answer── incoming ◀──ring── idle
 *     ▲              │                   │
 *     └── ended ◀────┴──── reject/cancel ┘
 * ```
 *
 * It is an `EventTarget`: `status` (detail: the call), `incoming` (detail: the call),
 * `message` (detail: a sentence for the user: what failed, what it is doing about it).
 *
 * @module
 */
import { type CallJson as Call, type CallStatus, Voice } from "../sdk/voice.ts";
import { VoiceApiError } from "../sdk/error.ts";
import { BrowserMoq, describeSessionEnd } from "./moq_connection.ts";
import { captureMicrophone, type CaptureOptions, type MicrophoneCapture } from "./capture.ts";
import { attachCallee, attachCaller, type CallMedia, type CallMediaStats } from "./call_media.ts";
import type { OpusPlayerOptions } from "./player.ts";

/** Options for {@linkcode Softphone}. */
export interface SoftphoneOptions {
  /** The server's HTTP base URL [the page's origin]. */
  readonly baseUrl?: string;
  /** A bearer token: `calls:*` for the API, `media:*` for the audio. */
  readonly token: string;
  /** Overrides the relay certificate hash from `/v1/relay/certificate` (tests, pinning). */
  readonly certificateHash?: string;
  /** Overrides the relay URL from `/v1/relay/certificate` (a proxy in front of the relay). */
  readonly relayUrl?: string;
  /** Player settings. */
  readonly player?: Omit<OpusPlayerOptions, "codec">;
  /** Microphone settings (see `captureMicrophone`). */
  readonly microphone?: CaptureOptions;
}

/** The phone's state. */
export type PhoneState =
  | { readonly state: "idle" }
  | { readonly state: "incoming"; readonly call: Call }
  | {
    readonly state: "active";
    readonly call: Call;
    /** `caller`: this page publishes the uplink; `callee`: the downlink. */
    readonly side: "caller" | "callee";
    readonly media: CallMedia | undefined;
  };

/** How long far-end audio may be missing after a network change before the path counts as dead. */
const PATH_CHECK_MS = 1500;

const TERMINAL: ReadonlySet<CallStatus> = new Set(["completed", "failed", "no_answer"]);

/** Words for an error, for the page. */
export function describeError(error: unknown): string {
  if (error instanceof VoiceApiError) {
    if (error.status === 0) return `Cannot reach the server (${error.problem.detail})`;
    return `${error.problem.title}: ${error.problem.detail ?? error.status}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function waitMs(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/**
 * A browser softphone.
 *
 * @example
 * ```ts ignore
 * import { Softphone } from "./softphone.ts";
 * const phone = new Softphone({ token });
 * phone.addEventListener("status", (e) => console.log((e as CustomEvent).detail.status));
 * await phone.register("alice");
 * await phone.dial("client:bob");
 * ```
 */
export class Softphone extends EventTarget implements AsyncDisposable {
  /** The SDK client for the Calls API. */
  readonly voice: Voice;
  readonly #options: SoftphoneOptions;
  readonly #baseUrl: string;
  readonly #abort = new AbortController();
  #identity: string | undefined;
  #phone: PhoneState = { state: "idle" };
  #moq: Promise<BrowserMoq> | undefined;
  // The relay URL #moq connects (or connected) to.
  #moqUrl: string | undefined;
  #mic: Promise<MicrophoneCapture> | undefined;
  #callAbort: AbortController | undefined;
  #muted = false;
  #closed = false;
  // Ends the current reconnect backoff early (a network change).
  #nudge: (() => void) | undefined;
  // Pending check that far-end audio still arrives after a network change.
  #pathCheck: ReturnType<typeof setTimeout> | undefined;

  /** A phone; nothing is sent until a method is called. */
  constructor(options: SoftphoneOptions) {
    super();
    this.#options = options;
    this.#baseUrl = options.baseUrl ??
      (globalThis as unknown as { location: { origin: string } }).location.origin;
    this.voice = new Voice({ baseUrl: this.#baseUrl, token: options.token });
    globalThis.addEventListener?.("online", this.#onNetworkChange);
    (globalThis.navigator as { connection?: EventTarget }).connection?.addEventListener?.(
      "change",
      this.#onNetworkChange,
    );
  }

  /** What the phone is doing. */
  get state(): PhoneState {
    return this.#phone;
  }

  /** The registered identity, if any. */
  get identity(): string | undefined {
    return this.#identity;
  }

  /** True while the microphone is muted. */
  get muted(): boolean {
    return this.#muted;
  }

  /** The current call's media counters. */
  get mediaStats(): CallMediaStats | undefined {
    return this.#phone.state === "active" ? this.#phone.media?.stats : undefined;
  }

  /** The current call's media, once attached. */
  get media(): CallMedia | undefined {
    return this.#phone.state === "active" ? this.#phone.media : undefined;
  }

  /** The microphone, once opened. */
  get microphone(): Promise<MicrophoneCapture> | undefined {
    return this.#mic;
  }

  /**
   * Registers as `client:<identity>` and listens for calls ringing it (re-listening after
   * a dropped stream). Resolves once registered.
   */
  async register(identity: string): Promise<void> {
    await this.voice.clients.add(identity);
    this.#identity = identity;
    this.#listen(identity);
  }

  /** Dials `to` (`client:<identity>`, E.164 or `sip:`); resolves with the new call. */
  async dial(to: string): Promise<Call> {
    if (this.#phone.state !== "idle") {
      throw new TypeError(`Cannot dial: the phone is ${this.#phone.state}`);
    }
    // Media first, so a refused token or an unreachable relay is said before anything rings.
    await this.#connectMedia();
    const from = `client:${this.#identity ?? "browser"}`;
    const call = (await this.voice.calls.originate({ from, to })).toJSON();
    await this.#activate(call, "callee");
    return call;
  }

  /** Answers the ringing call. */
  async answer(): Promise<void> {
    if (this.#phone.state !== "incoming") throw new TypeError("Cannot answer: nothing rings");
    const call = this.#phone.call;
    await this.#connectMedia(call.sid);
    const answered = await this.voice.calls.answer(call.sid);
    // A call that reached us through a gateway has its caller there; one dialed through
    // the API to this client makes this page the caller's side (it publishes the uplink).
    await this.#activate(answered, call.direction === "inbound" ? "callee" : "caller");
  }

  /** Rejects the ringing call (it ends `canceled`). */
  async reject(): Promise<void> {
    if (this.#phone.state !== "incoming") throw new TypeError("Cannot reject: nothing rings");
    const call = this.#phone.call;
    this.#phone = { state: "idle" };
    await this.voice.calls.hangup(call.sid);
  }

  /** Hangs up the current call. */
  async hangup(): Promise<void> {
    const phone = this.#phone;
    if (phone.state === "idle") return;
    await this.voice.calls.hangup(phone.call.sid);
  }

  /** Mutes or unmutes the microphone (silence is sent while muted). */
  setMuted(muted: boolean): void {
    this.#muted = muted;
    this.#mic?.then((mic) => mic.setMuted(muted));
  }

  /** Sends DTMF digits on the current call (a SIP leg plays them as RFC 4733). */
  async sendDigits(digits: string): Promise<void> {
    if (this.#phone.state !== "active") throw new TypeError("Cannot send digits: no call");
    await this.voice.calls.sendDigits(this.#phone.call.sid, digits);
  }

  // --- internals -----------------------------------------------------------------------------

  #say(message: string): void {
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
  }

  #emitStatus(call: Call): void {
    this.dispatchEvent(new CustomEvent("status", { detail: call }));
  }

  async #listen(identity: string): Promise<void> {
    const signal = this.#abort.signal;
    let backoff = 250;
    while (!signal.aborted) {
      try {
        for await (const event of this.voice.clients.incoming(identity, { signal })) {
          backoff = 250;
          if (event.type === "ring" && this.#phone.state === "idle") {
            this.#phone = { state: "incoming", call: event.call };
            this.#emitStatus(event.call);
            this.dispatchEvent(new CustomEvent("incoming", { detail: event.call }));
          } else if (
            event.type === "cancel" && this.#phone.state === "incoming" &&
            this.#phone.call.sid === event.call.sid
          ) {
            this.#phone = { state: "idle" };
            this.#emitStatus(event.call);
          }
        }
      } catch (error) {
        if (signal.aborted) return;
        this.#say(`Lost the incoming-call stream (${describeError(error)}); reconnecting`);
      }
      await waitMs(backoff, signal);
      backoff = Math.min(backoff * 2, 2000);
      // The server may have restarted without our registration: register again.
      await this.voice.clients.add(identity).catch((error) =>
        this.#say(`Cannot register "${identity}" again yet: ${describeError(error)}`)
      );
    }
  }

  /**
   * The microphone and a MoQT connection: to the relay shard that owns `sid`'s call
   * (`GET /v1/relay/placement/{sid}`), or without a sid to the relay of
   * `/v1/relay/certificate` (a check before dialing). A connection to the right relay is
   * reused; one to another shard is replaced (closing it is no media loss: no call's media is
   * on it then). Connected again after it drops.
   */
  async #connectMedia(sid?: string): Promise<BrowserMoq> {
    this.#mic ??= captureMicrophone(this.#options.microphone)
      .then((mic) => {
        mic.setMuted(this.#muted);
        return mic;
      });
    this.#mic.catch(() => this.#mic = undefined);
    await this.#mic;
    if (this.#moq && sid === undefined) return await this.#moq;
    // With a relayUrl given (a proxy in front of the relay) every call goes through it.
    const placed = sid === undefined || this.#options.relayUrl !== undefined
      ? undefined
      : (await this.voice.calls.relay(sid)).url;
    if (this.#moq && (placed === undefined || placed === this.#moqUrl)) return await this.#moq;
    const previous = this.#moq;
    const opening = (async () => {
      const response = await fetch(new URL("/v1/relay/certificate", this.#baseUrl));
      if (!response.ok) throw new Error(`Cannot read the relay certificate: ${response.status}`);
      const cert = await response.json() as { url: string; sha256Base64: string };
      const url = placed ?? this.#options.relayUrl ?? cert.url;
      const moq = await BrowserMoq.connect({
        url,
        // Every shard presents the server's certificate.
        certificateHash: this.#options.certificateHash ?? cert.sha256Base64,
        token: this.#options.token,
      });
      return { moq, url };
    })();
    const connecting: Promise<BrowserMoq> = this.#moq = opening.then(({ moq, url }) => {
      if (this.#moq === connecting) this.#moqUrl = url;
      moq.closed.then((why) => {
        // Replaced by a connection to another shard, or closed with the phone: not a loss.
        if (this.#moq !== connecting) return;
        this.#moq = undefined;
        if (!this.#closed) this.#onMediaLost(describeSessionEnd(why));
      });
      return moq;
    });
    this.#moqUrl = placed;
    connecting.catch(() => {
      if (this.#moq === connecting) this.#moq = undefined;
    });
    previous?.then((moq) => moq.close(), () => {});
    return await connecting;
  }

  /**
   * Makes `call` the active one: follows its status and attaches its media. A call whose
   * media cannot be attached (the relay refuses the token's rights, say) is hung up rather
   * than left silent; the reason has been said.
   */
  async #activate(call: Call, side: "caller" | "callee"): Promise<void> {
    this.#callAbort?.abort();
    const callAbort = this.#callAbort = new AbortController();
    this.#phone = { state: "active", call, side, media: undefined };
    this.#emitStatus(call);
    this.#follow(call, callAbort.signal);
    const failure = await this.#attach(call.sid, side, callAbort.signal);
    if (failure === undefined || callAbort.signal.aborted) return;
    this.#say(`No audio on this call, so it is hung up: ${failure}`);
    await this.voice.calls.hangup(call.sid).catch((error) =>
      this.#say(`No audio on this call (${failure}); hanging up failed: ${describeError(error)}`)
    );
  }

  /** Attaches the call's media; resolves with why it could not, undefined when it did. */
  async #attach(
    sid: string,
    side: "caller" | "callee",
    signal: AbortSignal,
  ): Promise<string | undefined> {
    try {
      const moq = await this.#connectMedia(sid);
      const microphone = await this.#mic!;
      if (signal.aborted) return "the call was left";
      const attach = side === "caller" ? attachCaller : attachCallee;
      const media = await attach({ moq, sid, microphone, player: this.#options.player });
      if (signal.aborted || this.#phone.state !== "active" || this.#phone.call.sid !== sid) {
        await media.close();
        return "the call was left";
      }
      this.#phone = { ...this.#phone, media };
      this.dispatchEvent(new CustomEvent("media", { detail: media }));
      return undefined;
    } catch (error) {
      return describeError(error);
    }
  }

  /** Follows the call's status on its SSE stream until it ends (re-reading after drops). */
  async #follow(call: Call, signal: AbortSignal): Promise<void> {
    let last = call;
    let backoff = 250;
    while (!signal.aborted && !TERMINAL.has(last.status)) {
      try {
        for await (const event of this.voice.calls.events(call.sid, { signal })) {
          backoff = 250;
          if (event.type !== "status") continue;
          last = event.call;
          this.#onCall(event.call);
          if (TERMINAL.has(event.call.status)) break;
        }
        if (TERMINAL.has(last.status) || signal.aborted) break;
      } catch (error) {
        if (signal.aborted) return;
        this.#say(`Lost the call's status stream (${describeError(error)}); reconnecting`);
      }
      await waitMs(backoff, signal);
      backoff = Math.min(backoff * 2, 2000);
      try {
        last = (await this.voice.calls.get(call.sid)).toJSON();
        this.#onCall(last);
      } catch (error) {
        if (signal.aborted) return;
        this.#say(`Cannot read call ${call.sid} yet: ${describeError(error)}`);
      }
    }
  }

  #onCall(call: Call): void {
    if (this.#phone.state !== "active" || this.#phone.call.sid !== call.sid) return;
    const media = this.#phone.media;
    if (TERMINAL.has(call.status)) {
      this.#phone = { state: "idle" };
      this.#callAbort?.abort();
      media?.close();
      const why = call.endReason ? ` (${call.endReason.replaceAll("_", " ")})` : "";
      this.#say(`The call ended: ${call.status.replaceAll("_", " ")}${why}`);
    } else {
      this.#phone = { ...this.#phone, call };
    }
    this.#emitStatus(call);
  }

  #onMediaLost(why: string): void {
    const phone = this.#phone;
    if (phone.state !== "active") return;
    this.#say(`Audio interrupted: ${why}; reconnecting`);
    phone.media?.close();
    this.#phone = { ...phone, media: undefined };
    this.#reattach(phone.call.sid, phone.side);
  }

  async #reattach(sid: string, side: "caller" | "callee"): Promise<void> {
    const signal = this.#callAbort?.signal ?? this.#abort.signal;
    let backoff = 250;
    while (!signal.aborted && this.#phone.state === "active" && this.#phone.call.sid === sid) {
      const failure = await this.#attach(sid, side, signal);
      if (failure === undefined) {
        this.#say("Audio reconnected");
        return;
      }
      if (signal.aborted) return;
      this.#say(`Cannot reconnect the audio yet: ${failure}`);
      const nudged = new AbortController();
      this.#nudge = () => nudged.abort();
      await waitMs(backoff, AbortSignal.any([signal, nudged.signal]));
      this.#nudge = undefined;
      backoff = Math.min(backoff * 2, 2000);
    }
  }

  readonly #onNetworkChange = () => {
    // A new network path. A live QUIC connection migrates by itself: the relay follows the
    // page to its new address (tests/browser/network_change_test.ts), so it is kept; a lost
    // one is being re-established: retry now instead of at the end of the backoff.
    this.#nudge?.();
    this.#checkPath();
  };

  /**
   * After a network change, a connection whose path died stays "open" until its idle timeout
   * (~30 s of silence). If no far-end audio arrives for {@linkcode PATH_CHECK_MS} after the
   * change, the connection is dropped and the call re-attached on a new one; the relay lets
   * the new connection take the page's tracks over from the dead one at once.
   */
  #checkPath(): void {
    const phone = this.#phone;
    const moq = this.#moq;
    if (phone.state !== "active" || !phone.media || !moq || this.#pathCheck) return;
    const media = phone.media;
    const receivedBefore = media.stats.player?.received ?? 0;
    this.#pathCheck = setTimeout(() => {
      this.#pathCheck = undefined;
      const current = this.#phone;
      if (current.state !== "active" || current.media !== media || this.#moq !== moq) return;
      if ((media.stats.player?.received ?? 0) > receivedBefore) return; // the path lives
      this.#say("No audio since the network changed; reconnecting on a new connection");
      moq.then((conn) => conn.close(), () => {}); // its end re-attaches the call (onMediaLost)
    }, PATH_CHECK_MS);
  }

  /** Hangs nothing up; stops listening, closes media and the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#callAbort?.abort();
    clearTimeout(this.#pathCheck);
    globalThis.removeEventListener?.("online", this.#onNetworkChange);
    (globalThis.navigator as { connection?: EventTarget }).connection?.removeEventListener?.(
      "change",
      this.#onNetworkChange,
    );
    if (this.#phone.state === "active") await this.#phone.media?.close();
    this.#phone = { state: "idle" };
    await this.#moq?.then((moq) => moq.close(), () => {});
    await this.#mic?.then((mic) => mic.close(), () => {});
  }

  /** Same as {@linkcode Softphone.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
