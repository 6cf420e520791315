/**
 * The `fonoster` adapter: an unchanged Fonoster Voice Application (`@fonoster/voice`'s
 * `new VoiceServer().listen(async (req, voice) => …)`, a gRPC server) drives the call. The
 * engine is its gRPC client, as Fonoster's media side is: it opens the `CreateSession`
 * stream, sends the session request, then carries out each verb request and answers it.
 *
 * ```text
 * engine → app   request {mediaSessionRef, callRef, appRef, callerNumber, ingressNumber, …},
 *                <verb>Response, streamPayload AUDIO_OUT (the caller), streamGatherPayload
 * app → engine   <verb>Request, streamPayload AUDIO_IN (audio for the caller)
 * ```
 *
 * Verbs: `answer` (the call is already answered when an agent is bound: answered at once),
 * `hangup`, `say` (espeak-ng; `options` ignored), `stopSay` and `playbackControl` `STOP`
 * (both drop the agent's queued audio), `playbackControl` `PAUSE` / `UNPAUSE` / `RESTART` /
 * `FORWARD` on the playback playing now (see `fonoster_playback.ts`; answered even when the
 * ref names none, as Fonoster answers), `play` (a 16-bit PCM WAV from an `http(s):` or
 * `file:` URL), `playDtmf` (RFC 4733 on a SIP leg), `gather` (DTMF; speech when the call
 * has a recognizer, the `asr-tap` plugin), `mute` / `unmute` (`IN`: the app gets silence;
 * `OUT`: the caller hears none of the app's audio), `startStream` / `stopStream` (20 ms of
 * 8 kHz 16-bit little-endian PCM per `AUDIO_OUT` payload, as Fonoster's AudioSocket sends;
 * `AUDIO_IN` payloads in the same format, or a WAV file, are queued for the caller),
 * `startStreamGather` / `stopStreamGather`, `dial` (a second leg through the calls control
 * plane, bridged to the caller once answered; `dialStatus` TRYING, then ANSWER, BUSY,
 * NOANSWER, FAILED or CANCEL, see `fonoster_dial.ts`) and `record` (the caller, after an optional beep, to a
 * mono 8 kHz WAV in the runtime's recordings directory until `maxDuration`, `maxSilence` or
 * `finishOnKey`; answered with its `name` and whole-second `duration`, see
 * `fonoster_record.ts`). With `typeAhead`, digits pressed while neither a
 * `gather` nor a DTMF stream gather runs (during a `say` or `play`, say) are kept, up to
 * {@linkcode MAX_TYPE_AHEAD}, and the next `gather` takes them first, as if pressed during
 * it (an IVR caller who knows the menu need not wait for the prompt); without it they are
 * dropped, as Fonoster's media side drops them (its gather listens for ARI
 * `ChannelDtmfReceived` only from its start). A verb the engine cannot carry out (a `dial`
 * the control plane refuses, a `play` whose file does not load, `playDtmf` on a leg without DTMF, a `record` without a
 * recordings directory, an unknown message) gets the protocol's one error message, a
 * `streamPayload` of type `ERROR` with a `code` and `message`, and no response (Fonoster's
 * media side logs such a verb and does not answer it either); the call goes on.
 *
 * An app that cannot be reached, fails the stream, ends it or stops reading ends the agent
 * (`agent failed` with the reason); the call goes on.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { pcm16FromBytes, pcm16ToBytes, remixChannels } from "../codecs/pcm16.ts";
import { decodeWav } from "../codecs/wav.ts";
import type { AgentAdapter, AgentDriver, AgentLink, CallerFrame } from "./adapter.ts";
import type { FonosterAgentConfig } from "./config.ts";
import { voiceClientClass } from "./fonoster_proto.ts";
import { DigitGather } from "./fonoster_gather.ts";
import { CallerRecording } from "./fonoster_record.ts";
import { type DialStatusName, dialStatusOf } from "./fonoster_dial.ts";
import type { DialLeg } from "./dial_leg.ts";
import { recordingName } from "./recordings_port.ts";
import { controlPlayback, type PlaybackAction } from "./fonoster_playback.ts";
import { messageOf } from "./session.ts";
import type { AsrResult } from "./turn_text.ts";
import { speak } from "./tts.ts";
import { resample } from "./tts_synth.ts";

/** The audio rate of the app's streams (Fonoster's AudioSocket: 8 kHz signed linear). */
const RATE = 8000;
/** Messages queued for an app that stopped reading before the agent fails (~30 s of audio). */
export const MAX_PENDING_WRITES = 1500;
/** How long a closed session waits for the app to end its side before cancelling, ms. */
const CLOSE_GRACE_MS = 2000;
/** Largest file a `play` verb loads, bytes. */
export const MAX_PLAY_BYTES = 16 << 20;
/** Type-ahead digits kept for the next gather (`typeAhead`); the oldest go first. */
export const MAX_TYPE_AHEAD = 64;

/** A message of the `CreateSession` stream, as loaded (its `content` names its one field). */
type Message = { readonly content?: string } & Record<string, unknown>;

/**
 * Makes the adapter of one configured Fonoster app.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { fonosterAdapter } from "./fonoster.ts";
 * const adapter = fonosterAdapter({ type: "fonoster", url: "grpc://127.0.0.1:50061" });
 * assertEquals(adapter.format, { codec: "pcm16", sampleRate: 8000 });
 * ```
 */
export function fonosterAdapter(config: FonosterAgentConfig): AgentAdapter {
  return {
    format: { codec: "pcm16", sampleRate: RATE },
    engineBargeIn: false,
    open: (link) => FonosterDriver.connect(config, link),
  };
}

/**
 * The gRPC target and whether it is TLS, of a configured `url`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { fonosterTarget } from "./fonoster.ts";
 * assertEquals(fonosterTarget("grpcs://apps.example.com:443"), { target: "apps.example.com:443", tls: true });
 * assertEquals(fonosterTarget("127.0.0.1:50061"), { target: "127.0.0.1:50061", tls: false });
 * ```
 */
export function fonosterTarget(url: string): { target: string; tls: boolean } {
  const tls = url.startsWith("grpcs://");
  return { target: url.replace(/^grpcs?:\/\//, "").replace(/\/$/, ""), tls };
}

class FonosterDriver implements AgentDriver {
  readonly #link: AgentLink;
  readonly #client: grpc.Client;
  readonly #call: grpc.ClientDuplexStream<Message, Message>;
  readonly #target: string;
  readonly #ref: string;
  /** Playback ref → playout item, while queued or playing. */
  readonly #playbacks = new Map<string, string>();
  #items = 0;
  readonly #gathers = new Set<DigitGather>();
  /** Says whose speech is being synthesized (a stopSay aborts them). */
  readonly #synthesizing = new Set<AbortController>();
  #stream: { readonly ref: string; readonly toApp: boolean } | undefined;
  #streamGather: { readonly speech: boolean; readonly dtmf: boolean } | undefined;
  #mutedIn = false;
  #closed = false;
  /** The `dial` verb's leg, while it is up. */
  #dialed: DialLeg | undefined;
  /** The `record` verb's recording, while one runs. */
  #recording: CallerRecording | undefined;
  /** Digits pressed while no gather ran, for the next one; undefined without `typeAhead`. */
  readonly #typeAhead: string[] | undefined;

  private constructor(
    config: FonosterAgentConfig,
    link: AgentLink,
    Voice: grpc.ServiceClientConstructor,
  ) {
    this.#link = link;
    this.#ref = link.sid;
    this.#typeAhead = config.typeAhead ? [] : undefined;
    const { target, tls } = fonosterTarget(config.url);
    this.#target = target;
    this.#client = new Voice(
      target,
      tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
    );
    // As Fonoster's media side sends them (its VoiceServer's identity check reads `token`).
    const metadata = new grpc.Metadata();
    if (config.accessKeyId) metadata.add("accessKeyId", config.accessKeyId);
    if (config.sessionToken) metadata.add("token", config.sessionToken);
    const client = this.#client as unknown as {
      createSession(metadata: grpc.Metadata): grpc.ClientDuplexStream<Message, Message>;
    };
    this.#call = client.createSession(metadata);
    this.#call.on("data", (message: Message) => this.#onMessage(message));
    this.#call.on("error", (error: grpc.ServiceError) => {
      const code = grpc.status[error.code] ?? String(error.code);
      this.#fail(`Fonoster app at ${target} failed the session: ${code}: ${error.details}`);
    });
    this.#call.on("end", () => this.#fail(`Fonoster app at ${target} ended the session`));
    const metadataMap: Record<string, string> = { ...config.metadata };
    for (const [key, value] of Object.entries(link.parameters)) {
      metadataMap[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    this.#write({
      request: {
        accessKeyId: config.accessKeyId ?? "",
        appRef: config.appRef ?? "",
        endpoint: "",
        ingressNumber: link.call.to,
        callerName: "",
        callerNumber: link.call.from,
        mediaSessionRef: this.#ref,
        callRef: link.sid,
        sessionToken: config.sessionToken ?? "",
        callDirection: link.call.direction === "outbound" ? "TO_PSTN" : "FROM_PSTN",
        metadata: metadataMap,
      },
    });
  }

  static async connect(config: FonosterAgentConfig, link: AgentLink): Promise<AgentDriver> {
    return new FonosterDriver(config, link, await voiceClientClass());
  }

  audio(frame: CallerFrame): void {
    const heard = this.#mutedIn ? new Int16Array(frame.pcm.length) : frame.pcm;
    this.#recording?.audio(heard);
    this.#dialed?.write(heard);
    const stream = this.#stream;
    if (!stream?.toApp || this.#closed) return;
    this.#write({
      streamPayload: {
        mediaSessionRef: this.#ref,
        streamRef: stream.ref,
        type: "AUDIO_OUT",
        data: this.#mutedIn ? new Uint8Array(frame.payload.length) : frame.payload,
      },
    });
  }

  dtmf(digit: string): void {
    this.#recording?.digit(digit);
    const heard = this.#gathers.size > 0 || this.#streamGather?.dtmf === true ||
      this.#recording !== undefined;
    for (const gather of this.#gathers) gather.digit(digit);
    if (this.#streamGather?.dtmf) {
      this.#write({ streamGatherPayload: { mediaSessionRef: this.#ref, digit } });
    }
    const typeAhead = this.#typeAhead;
    if (!heard && typeAhead) {
      if (typeAhead.length >= MAX_TYPE_AHEAD) typeAhead.shift();
      typeAhead.push(digit);
    }
  }

  transcript(result: AsrResult): void {
    if (result.kind !== "final") return;
    for (const gather of this.#gathers) gather.speech(result.text);
    if (this.#streamGather?.speech && result.text.trim() !== "") {
      this.#write({ streamGatherPayload: { mediaSessionRef: this.#ref, speech: result.text } });
    }
  }

  close(_reason: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const gather of this.#gathers) gather[Symbol.dispose]();
    this.#gathers.clear();
    this.#dialed?.close();
    this.#dialed = undefined;
    this.#recording?.close().catch((error) =>
      this.#link.log.warn("Fonoster recording did not close", { error: messageOf(error) })
    );
    // Half-close: the app's VoiceServer ends its side in turn (pending responses still go
    // out); one that does not within CLOSE_GRACE_MS is cancelled.
    try {
      this.#call.end();
    } catch (error) {
      this.#link.log.debug("Fonoster stream end failed", { error });
    }
    const call = this.#call;
    const timer = setTimeout(() => call.cancel(), CLOSE_GRACE_MS);
    Deno.unrefTimer(timer);
    call.on("status", () => clearTimeout(timer));
    this.#client.close();
    return Promise.resolve();
  }

  #onMessage(m: Message): void {
    if (this.#closed) return;
    const verb = typeof m.content === "string" ? m.content : "";
    const body = (Object.hasOwn(m, verb) ? m[verb] : undefined) as Record<string, unknown>;
    if (!body || typeof body !== "object") {
      return this.#error("INVALID_ARGUMENT", `Unknown message from the app: "${verb}"`);
    }
    this.#verb(verb, body).catch((error) => {
      if (this.#closed) return;
      this.#link.log.warn("Fonoster verb failed", { verb, error: messageOf(error) });
      this.#error("INTERNAL", `Cannot carry out ${verb}: ${messageOf(error)}`);
    });
  }

  async #verb(verb: string, body: Record<string, unknown>): Promise<void> {
    const ref = { mediaSessionRef: this.#ref };
    switch (verb) {
      case "answerRequest":
        return this.#write({ answerResponse: ref });
      case "hangupRequest":
        this.#write({ hangupResponse: ref });
        return await this.#link.hangup();
      case "sayRequest":
        return await this.#say(String(body.text ?? ""));
      case "stopSayRequest":
        // Says still being synthesized are stopped too (their responses go out at once).
        for (const pending of this.#synthesizing) pending.abort();
        this.#stopPlayback();
        return this.#write({ stopSayResponse: ref });
      case "playRequest": {
        const pcm = await loadWav(String(body.url ?? ""), this.#link.signal);
        const playbackRef = await this.#playToEnd(pcm, "play");
        return this.#write({ playResponse: { ...ref, playbackRef } });
      }
      case "playbackControlRequest": {
        // Proto3 sends the enum's zero (STOP) as nothing.
        const action = (body.action ?? "STOP") as PlaybackAction;
        const item = this.#playbacks.get(String(body.playbackRef));
        if (item !== undefined && action === "STOP") {
          this.#link.pause(false);
          this.#stopPlayback();
        } else if (item !== undefined && action !== "STOP") {
          controlPlayback(this.#link, item, action);
        }
        // Answered whether or not the ref names a playback now, as Fonoster answers.
        return this.#write({ playbackControlResponse: ref });
      }
      case "playDtmfRequest":
        await this.#link.digits(String(body.digits ?? ""));
        return this.#write({ playDtmfResponse: ref });
      case "gatherRequest":
        return this.#gather(body);
      case "recordRequest":
        return await this.#record(body);
      case "dialRequest":
        return await this.#dial(body);
      case "muteRequest":
      case "unmuteRequest": {
        const muted = verb === "muteRequest";
        // Proto3 sends the enum's zero (IN) as nothing.
        const direction = body.direction ?? "IN";
        if (direction !== "OUT") this.#mutedIn = muted;
        if (direction !== "IN") this.#link.muteDownlink(muted);
        return this.#write(muted ? { muteResponse: ref } : { unmuteResponse: ref });
      }
      case "startStreamRequest": {
        // Proto3 cannot tell IN (zero) from unset; Fonoster reads unset as BOTH, so do we.
        const streamRef = crypto.randomUUID();
        this.#stream = { ref: streamRef, toApp: true };
        return this.#write({ startStreamResponse: { ...ref, streamRef } });
      }
      case "stopStreamRequest":
        // The protocol has no stop-stream response.
        this.#stream = undefined;
        return;
      case "streamPayload":
        return this.#streamIn(body);
      case "startStreamGatherRequest": {
        // As for gather: `@fonoster/voice`'s names arrive unset, read as both.
        this.#streamGather = { speech: body.source !== "DTMF", dtmf: body.source !== "SPEECH" };
        return this.#write({ startStreamGatherResponse: ref });
      }
      case "stopStreamGatherRequest":
        this.#streamGather = undefined;
        return this.#write({ stopStreamGatherResponse: ref });
      default:
        return this.#error(
          "UNIMPLEMENTED",
          `The verb ${verb.replace(/Request$/, "")} is not supported by this engine`,
        );
    }
  }

  async #say(text: string): Promise<void> {
    const stop = new AbortController();
    this.#synthesizing.add(stop);
    let pcm: Int16Array | undefined;
    try {
      pcm = await speak(
        text,
        { sampleRate: RATE },
        AbortSignal.any([this.#link.signal, stop.signal]),
      );
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    } finally {
      this.#synthesizing.delete(stop);
    }
    const playbackRef = pcm ? await this.#playToEnd(pcm, "say") : crypto.randomUUID();
    this.#write({ sayResponse: { mediaSessionRef: this.#ref, playbackRef } });
  }

  async #record(body: Record<string, unknown>): Promise<void> {
    if (this.#recording) {
      return this.#error("FAILED_PRECONDITION", "Cannot record: a recording is under way");
    }
    const number = (value: unknown) => typeof value === "number" ? value : 0;
    const name = recordingName();
    const recording = await CallerRecording.start(this.#link, name, {
      maxDuration: number(body.maxDuration),
      maxSilence: number(body.maxSilence),
      beep: body.beep === true,
      finishOnKey: typeof body.finishOnKey === "string" ? body.finishOnKey : "",
    });
    if (this.#closed) return void await recording.close();
    this.#recording = recording;
    try {
      const { duration } = await recording.done;
      this.#write({
        recordResponse: { mediaSessionRef: this.#ref, name, duration, format: "WAV" },
      });
    } finally {
      this.#recording = undefined;
    }
  }

  async #dial(body: Record<string, unknown>): Promise<void> {
    if (this.#dialed) {
      return this.#error("FAILED_PRECONDITION", "Cannot dial: a dialed leg is up");
    }
    const timeout = typeof body.timeout === "number" ? body.timeout : 0;
    const call = this.#link.call;
    let tried = false;
    let answered = false;
    const send = (status: DialStatusName) => {
      // TRYING first, at once, as Fonoster sends it (before any status of the leg).
      if (!tried) this.#write({ dialStatus: { mediaSessionRef: this.#ref, status: "TRYING" } });
      tried = true;
      if (status !== "TRYING") this.#write({ dialStatus: { mediaSessionRef: this.#ref, status } });
    };
    const leg = await this.#link.dial({
      // The call's ingress number, as Fonoster's X-Dod-Number.
      from: call.direction === "inbound" ? call.to : call.from,
      to: String(body.destination ?? ""),
      ringTimeoutMs: timeout > 0 ? timeout * 1000 : undefined,
    }, {
      status: (status, endReason) => {
        const name = dialStatusOf(status, endReason, answered);
        if (status === "in_progress") answered = true;
        if (name) send(name);
        if (endReason !== undefined && this.#dialed === leg) this.#dialed = undefined;
      },
      audio: (pcm) => this.#link.play(pcm16ToBytes(pcm), "dial"),
    });
    if (this.#closed) return void await leg.close();
    send("TRYING");
    this.#dialed ??= leg;
  }

  #gather(body: Record<string, unknown>): void {
    const started = performance.now();
    // `@fonoster/voice` sends `source` as a name the proto does not know ("dtmf"), so it
    // arrives unset, which is SPEECH on the wire; Fonoster reads unset as both, so do we.
    const gather: DigitGather = new DigitGather({
      speech: body.source !== "DTMF",
      dtmf: true,
      finishOnKey: typeof body.finishOnKey === "string" ? body.finishOnKey : undefined,
      maxDigits: typeof body.maxDigits === "number" ? body.maxDigits : undefined,
      timeoutMs: typeof body.timeout === "number" ? body.timeout : undefined,
    }, (outcome) => {
      this.#gathers.delete(gather);
      this.#write({
        gatherResponse: {
          mediaSessionRef: this.#ref,
          ...outcome,
          responseTime: Math.round(performance.now() - started),
        },
      });
    });
    // Type-ahead digits first, in the order pressed; what this gather leaves stays kept.
    const typeAhead = this.#typeAhead;
    while (typeAhead && typeAhead.length > 0 && !gather.ended) gather.digit(typeAhead.shift()!);
    if (!gather.ended) this.#gathers.add(gather);
  }

  #streamIn(body: Record<string, unknown>): void {
    const type = body.type ?? "AUDIO_IN";
    if (type === "ERROR") {
      this.#link.log.warn("Fonoster app sent a stream error", {
        code: String(body.code ?? ""),
        message: String(body.message ?? "").slice(0, 256),
      });
      return;
    }
    if (type !== "AUDIO_IN") return;
    if (!this.#stream) return this.#error("FAILED_PRECONDITION", "AUDIO_IN without a stream");
    const data = body.data instanceof Uint8Array ? body.data : new Uint8Array(0);
    const pcm = isWav(data) ? wavTo8k(data) : pcm16FromBytes(data.subarray(0, data.length & ~1));
    if (pcm.length > 0) this.#link.play(pcm16ToBytes(pcm), "stream");
  }

  /** Queues audio; resolves with its playback ref once it was played (or cleared). */
  #playToEnd(pcm: Int16Array, kind: string): Promise<string> {
    const playbackRef = crypto.randomUUID();
    const item = `${kind}-${++this.#items}`;
    this.#playbacks.set(playbackRef, item);
    this.#link.play(pcm16ToBytes(pcm), item);
    return new Promise((resolve) => {
      const done = () => {
        this.#playbacks.delete(playbackRef);
        resolve(playbackRef);
      };
      if (!this.#link.mark(item, done)) done();
    });
  }

  #stopPlayback(): void {
    if (this.#playbacks.size > 0 || this.#link.playing) this.#link.clear();
  }

  /** The protocol's one error message: a stream payload of type ERROR. */
  #error(code: string, message: string): void {
    this.#link.log.warn("Fonoster verb not carried out", { code, message });
    this.#write({
      streamPayload: {
        mediaSessionRef: this.#ref,
        streamRef: this.#stream?.ref ?? "",
        type: "ERROR",
        code,
        message,
      },
    });
  }

  #write(message: Record<string, unknown>): void {
    if (this.#closed) return;
    if (this.#call.writableLength > MAX_PENDING_WRITES) {
      return this.#fail(
        `Fonoster app at ${this.#target} stopped reading (${MAX_PENDING_WRITES} messages unsent)`,
      );
    }
    try {
      this.#call.write(message);
    } catch (error) {
      this.#fail(`Cannot write to the Fonoster app at ${this.#target}: ${messageOf(error)}`);
    }
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.close(reason);
    this.#link.fail(reason);
  }
}

function isWav(data: Uint8Array): boolean {
  return data.length >= 12 && data[0] === 0x52 && data[1] === 0x49 && data[2] === 0x46 &&
    data[3] === 0x46;
}

function wavTo8k(bytes: Uint8Array): Int16Array {
  const wav = decodeWav(bytes);
  const mono = wav.channels === 1 ? wav.samples : remixChannels(wav.samples, wav.channels, 1);
  return resample(mono, wav.sampleRate, RATE);
}

/** A `play` verb's file: a WAV at an `http(s):` or `file:` URL, as 8 kHz PCM. */
async function loadWav(url: string, signal: AbortSignal): Promise<Int16Array> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`not a URL: "${url.slice(0, 200)}"`);
  }
  let bytes: Uint8Array;
  if (parsed.protocol === "file:") {
    const { size } = await Deno.stat(parsed);
    if (size > MAX_PLAY_BYTES) throw new RangeError(`${url} is over ${MAX_PLAY_BYTES} bytes`);
    bytes = await Deno.readFile(parsed, { signal });
  } else if (parsed.protocol === "http:" || parsed.protocol === "https:") {
    const response = await fetch(parsed, { signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`GET ${url}: HTTP ${response.status}`);
    }
    const length = Number(response.headers.get("content-length") ?? 0);
    if (length > MAX_PLAY_BYTES) {
      await response.body?.cancel();
      throw new RangeError(`${url} is over ${MAX_PLAY_BYTES} bytes`);
    }
    bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > MAX_PLAY_BYTES) {
      throw new RangeError(`${url} is over ${MAX_PLAY_BYTES} bytes`);
    }
  } else {
    throw new TypeError(`cannot play a ${parsed.protocol} URL (http:, https: or file:)`);
  }
  return wavTo8k(bytes);
}
