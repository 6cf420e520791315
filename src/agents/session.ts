/**
 * One agent bound to one call: the AudioBridge (subscribes the caller's uplink, publishes
 * the downlink in the leg's codec), the paced playout, the engine's turn detection and
 * barge-in, and the adapter's driver in between.
 *
 * ```text
 *   opening ──driver open──▶ running ──close(reason)──▶ closed
 *      └────── open failed ───────────────────────────▶ closed (failed)
 * ```
 *
 * @module
 */
import { attach, type AudioBridge, type BridgeVia } from "../bridge/mod.ts";
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from "../codecs/g711.ts";
import { pcm16FromBytes, pcm16ToBytes } from "../codecs/pcm16.ts";
import type { Logger } from "../log/mod.ts";
import type { AgentAdapter, AgentDriver, AgentLink } from "./adapter.ts";
import type { BargeInConfig, TurnConfig } from "./config.ts";
import { Playout } from "./playout.ts";
import { TurnDetector, type TurnSignal } from "./turn_detector.ts";
import type { AsrResult } from "./turn_text.ts";
import type { OpenRecording } from "./recordings_port.ts";
import type { DialInput, DialLeg, DialListener } from "./dial_leg.ts";

/** What a session reports to the runtime. */
export interface SessionReports {
  /** A caller turn started or ended (times in µs since the epoch). */
  turn(state: "start" | "end", startedAt: number, endedAt?: number): void;
  /** The agent's reply was cut. */
  interruption(report: { playedMs: number; words?: string; heardMs?: number }): void;
  /** The session ended; `failed` when it ended on an error. */
  ended(reason: string, failed: boolean): void;
  /** The agent asked to hang up. */
  hangup(): Promise<void>;
  /** The agent asked to play DTMF digits to the caller. */
  digits(digits: string): Promise<void>;
  /** The agent asked to transfer. */
  transfer(target: { readonly agent: string } | { readonly to: string }): Promise<void>;
  /** The agent opens a recording of its own (mono WAV at `sampleRate`). */
  record?(name: string, sampleRate: number): Promise<OpenRecording>;
  /** The agent places a second leg bridged to the caller. */
  dial?(input: DialInput, listener: DialListener): Promise<DialLeg>;
}

/** Options of {@linkcode AgentSession.open}. */
export interface AgentSessionOptions {
  readonly via: BridgeVia;
  readonly sid: string;
  readonly agent: string;
  readonly adapter: AgentAdapter;
  readonly call: AgentLink["call"];
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly turn?: TurnConfig;
  readonly bargeIn?: BargeInConfig;
  readonly log: Logger;
  readonly reports: SessionReports;
}

/** Oldest a caller frame may be when read before the bridge drops it, ms. */
const UPLINK_MAX_LATENCY_MS = 1000;
/** Caller audio kept for a module agent's turn: at most this much, ms. */
const MAX_TURN_AUDIO_MS = 30_000;
/** Audio kept from before a turn's detected start (the VAD needs a few frames), ms. */
const PRE_ROLL_MS = 200;

/**
 * A running agent on a call.
 *
 * @example
 * ```ts ignore
 * const session = await AgentSession.open({ via: origin, sid, agent: "echo", adapter, call, parameters: {}, log, reports });
 * await session.close("detached");
 * ```
 */
export class AgentSession implements AsyncDisposable {
  readonly #options: AgentSessionOptions;
  readonly #bridge: AudioBridge;
  readonly #playout: Playout;
  readonly #turns: TurnDetector;
  readonly #abort = new AbortController();
  #driver: AgentDriver | undefined;
  #closing: Promise<void> | undefined;
  #turnAudio: Int16Array[] = [];
  #turnSamples = 0;
  #inTurn = false;
  /** Capture time of the latest caller frame, µs. */
  #lastFrameAt = 0;

  private constructor(
    options: AgentSessionOptions,
    bridge: AudioBridge,
    turns: TurnDetector,
  ) {
    this.#options = options;
    this.#bridge = bridge;
    this.#turns = turns;
    const { codec } = options.adapter.format;
    this.#playout = new Playout({
      sampleRate: options.adapter.format.sampleRate,
      sink: (pcm, timestamp) => {
        if (codec === "pcm16") this.#bridge.write(pcm, timestamp);
        else {this.#bridge.write(
            codec === "g711_ulaw" ? encodeUlaw(pcm) : encodeAlaw(pcm),
            timestamp,
          );}
      },
    });
  }

  /**
   * Attaches the bridge and starts the driver. Resolves once the bridge is attached; the
   * driver opens in the background (a failure ends the session with `ended(reason, true)`).
   *
   * @throws whatever `attach` throws (no uplink, bad sid).
   */
  static async open(options: AgentSessionOptions): Promise<AgentSession> {
    const { format } = options.adapter;
    const bridge = await attach(options.via, {
      sid: options.sid,
      codec: format.codec,
      sampleRate: format.sampleRate,
      // An agent wants every word: caller frames up to a second late are still delivered
      // (the bridge's default, 200 ms, drops them when a busy event loop reads late).
      maxLatencyMs: UPLINK_MAX_LATENCY_MS,
    });
    let turns: TurnDetector;
    try {
      const silenceMs = clamp(
        options.turn?.silenceMs ?? 500,
        options.turn?.minSilenceMs,
        options.turn?.maxSilenceMs,
      );
      turns = await TurnDetector.create({
        // fvad has no 24 kHz mode: such frames are decimated to 8 kHz for it.
        sampleRate: format.sampleRate === 24000 ? 8000 : format.sampleRate,
        silenceMs,
        minSpeechMs: options.turn?.minSpeechMs,
        bargeIn: options.adapter.engineBargeIn && (options.bargeIn?.enabled ?? true),
        bargeInMs: options.bargeIn?.minSpeechMs,
      });
    } catch (error) {
      bridge.close();
      throw error;
    }
    const session = new AgentSession(options, bridge, turns);
    session.#start();
    return session;
  }

  /**
   * What the session holds in memory now: the audio the playout keeps alive, the caller audio
   * kept for a module agent's turn, and the pending marks. Each is bounded (the playout by
   * `maxQueuedMs` plus the entry playing, the turn audio by 30 s, marks by `maxMarks`).
   */
  footprint(): {
    readonly playoutBytes: number;
    readonly turnBytes: number;
    readonly marks: number;
  } {
    let turnBytes = 0;
    for (const chunk of this.#turnAudio) turnBytes += chunk.byteLength;
    return {
      playoutBytes: this.#playout.retainedBytes,
      turnBytes,
      marks: this.#playout.pendingMarks,
    };
  }

  /** The playout (for counters and tests). */
  get playout(): Playout {
    return this.#playout;
  }

  /** Delivers a DTMF digit from the caller. */
  dtmf(digit: string, at: number): void {
    try {
      this.#driver?.dtmf?.(digit, at);
    } catch (error) {
      this.#fail(`agent threw on dtmf: ${messageOf(error)}`);
    }
  }

  /** Delivers a speech recognizer's result on the caller's track. */
  transcript(result: AsrResult): void {
    try {
      this.#driver?.transcript?.(result);
    } catch (error) {
      this.#fail(`agent threw on transcript: ${messageOf(error)}`);
    }
  }

  /** Ends the session: stops the driver, the playout and the bridge. A second close waits. */
  close(reason: string): Promise<void> {
    return this.#end(reason, false);
  }

  /** Same as `close("detached")`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close("detached");
  }

  #start(): void {
    const { adapter, log } = this.#options;
    this.#playout.start();
    const link = this.#link();
    adapter.open(link).then(
      (driver) => {
        if (this.#closing) {
          driver.close("detached").catch((error) =>
            log.warn("Agent driver close failed", { error })
          );
          return;
        }
        this.#driver = driver;
      },
      (error) => this.#fail(`cannot open agent: ${messageOf(error)}`),
    );
    this.#pump().catch((error) => this.#fail(`caller audio failed: ${messageOf(error)}`));
  }

  async #pump(): Promise<void> {
    const { codec } = this.#options.adapter.format;
    for await (const frame of this.#bridge) {
      if (this.#closing) return;
      const pcm = codec === "pcm16"
        ? frame.samples ?? pcm16FromBytes(frame.payload)
        : codec === "g711_ulaw"
        ? decodeUlaw(frame.payload)
        : decodeAlaw(frame.payload);
      const payload = codec === "pcm16" ? pcm16ToBytes(pcm) : frame.payload;
      this.#lastFrameAt = frame.timestamp;
      this.#keepTurnAudio(pcm);
      const driver = this.#driver;
      if (driver) {
        try {
          driver.audio({ payload, pcm, timestamp: frame.timestamp });
        } catch (error) {
          this.#fail(`agent threw on audio: ${messageOf(error)}`);
          return;
        }
      }
      let signals: TurnSignal[];
      try {
        const vadPcm = this.#options.adapter.format.sampleRate === 24000 ? decimate3(pcm) : pcm;
        signals = this.#turns.process(vadPcm, frame.timestamp, this.#playout.playing);
      } catch (error) {
        this.#options.log.warn("Turn detection skipped a frame", { error });
        continue;
      }
      for (const signal of signals) this.#onSignal(signal);
    }
  }

  #keepTurnAudio(pcm: Int16Array): void {
    if (!this.#driver?.turn) return;
    const rate = this.#options.adapter.format.sampleRate;
    this.#turnAudio.push(pcm);
    this.#turnSamples += pcm.length;
    const limit = ((this.#inTurn ? MAX_TURN_AUDIO_MS : PRE_ROLL_MS) * rate) / 1000;
    while (this.#turnSamples - this.#turnAudio[0].length >= limit) {
      this.#turnSamples -= this.#turnAudio.shift()!.length;
    }
  }

  #onSignal(signal: TurnSignal): void {
    const { reports, bargeIn } = this.#options;
    switch (signal.type) {
      case "turn_start":
        this.#inTurn = true;
        reports.turn("start", signal.at);
        break;
      case "turn_end":
        this.#inTurn = false;
        reports.turn("end", signal.startedAt, signal.at);
        break;
      case "barge_in_onset":
        this.#playout.duck(bargeIn?.duckGain ?? 0.25);
        break;
      case "false_interruption":
        this.#playout.duck(1);
        break;
      case "interruption": {
        const cleared = this.#playout.clear();
        this.#playout.duck(1);
        const playedMs = Math.round(cleared.item?.playedMs ?? 0);
        let words: string | undefined;
        try {
          words = this.#driver?.interrupted?.({ playedMs, item: cleared.item?.id })?.words;
        } catch (error) {
          this.#fail(`agent threw on interruption: ${messageOf(error)}`);
        }
        reports.interruption({ playedMs, heardMs: signal.heardMs, words });
        break;
      }
    }
    if (this.#driver?.turn) {
      let audio: Int16Array | undefined;
      if (signal.type === "turn_end") {
        audio = concat(this.#turnAudio, this.#turnSamples);
        this.#turnAudio = [];
        this.#turnSamples = 0;
      }
      try {
        this.#driver.turn(signal, audio);
      } catch (error) {
        this.#fail(`agent threw on turn: ${messageOf(error)}`);
      }
    }
  }

  #link(): AgentLink {
    const o = this.#options;
    const playout = this.#playout;
    return {
      sid: o.sid,
      agent: o.agent,
      call: o.call,
      parameters: o.parameters,
      log: o.log,
      signal: this.#abort.signal,
      play: (audio, item) => {
        const { codec } = o.adapter.format;
        const pcm = codec === "pcm16"
          ? pcm16FromBytes(audio.subarray(0, audio.length & ~1))
          : codec === "g711_ulaw"
          ? decodeUlaw(audio)
          : decodeAlaw(audio);
        this.#playout.enqueue(pcm, item);
      },
      mark: (name, onPlayed) => this.#playout.mark(name, onPlayed),
      clear: () => this.#playout.clear(),
      get playing(): boolean {
        return playout.playing;
      },
      get current(): { readonly id: string; readonly playedMs: number } | undefined {
        return playout.current;
      },
      playedMs: (item) => this.#playout.playedMs(item),
      fail: (reason) => this.#fail(reason),
      interrupted: (report) => o.reports.interruption(report),
      pause: (paused) => this.#playout.pause(paused),
      seek: (item, to) => this.#playout.seek(item, to),
      muteDownlink: (muted) => this.#playout.duck(muted ? 0 : 1),
      hangup: () => o.reports.hangup(),
      digits: (digits) => o.reports.digits(digits),
      transfer: (target) => o.reports.transfer(target),
      record: (name, sampleRate) =>
        o.reports.record?.(name, sampleRate) ??
          Promise.reject(new Error("no recordings directory is configured")),
      dial: (input, listener) =>
        o.reports.dial?.(input, listener) ??
          Promise.reject(new Error("this agent runtime cannot place calls")),
    };
  }

  /** The capture time of the newest caller frame, µs since the epoch (0 before any). */
  get lastFrameAt(): number {
    return this.#lastFrameAt;
  }

  #fail(reason: string): void {
    this.#options.log.warn("Agent failed", { reason });
    this.#end(reason, true).catch((error) =>
      this.#options.log.error("Agent session close failed", { error })
    );
  }

  #end(reason: string, failed: boolean): Promise<void> {
    return this.#closing ??= (async () => {
      this.#abort.abort();
      this.#playout.close();
      const driver = this.#driver;
      this.#driver = undefined;
      try {
        await driver?.close(reason);
      } catch (error) {
        this.#options.log.warn("Agent driver close failed", { error });
      }
      this.#bridge.close();
      this.#turns.close();
      this.#options.reports.ended(reason, failed);
    })();
  }
}

function clamp(value: number, min = 100, max = 10_000): number {
  return Math.min(max, Math.max(min, value));
}

/** 24 kHz → 8 kHz by averaging each three samples (a crude low-pass, enough for a VAD). */
function decimate3(pcm: Int16Array): Int16Array {
  const out = new Int16Array(Math.floor(pcm.length / 3));
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.round((pcm[3 * i] + pcm[3 * i + 1] + pcm[3 * i + 2]) / 3);
  }
  return out;
}

function concat(chunks: readonly Int16Array[], total: number): Int16Array {
  const out = new Int16Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** An error's message, for reasons in events. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
