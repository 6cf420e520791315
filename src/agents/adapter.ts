/**
 * The plug point between the agent runtime and an agent: an {@linkcode AgentAdapter} says
 * which audio format it wants and opens a {@linkcode AgentDriver} per call, given an
 * {@linkcode AgentLink} to play audio, place marks, flush, and report.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { ClearResult } from "./playout.ts";
import type { TurnSignal } from "./turn_detector.ts";
import type { AsrResult } from "./turn_text.ts";
import type { OpenRecording } from "./recordings_port.ts";
import type { DialInput, DialLeg, DialListener } from "./dial_leg.ts";

/** The audio an adapter reads and writes: G.711 or PCM16 at a bridge rate. */
export interface AgentAudioFormat {
  /** `g711_ulaw` / `g711_alaw` (8000 Hz) or `pcm16`. */
  readonly codec: "g711_ulaw" | "g711_alaw" | "pcm16";
  /** 8000 for G.711; 8000, 16000, 24000 or 48000 for PCM16. */
  readonly sampleRate: 8000 | 16000 | 24000 | 48000;
}

/** One 20 ms frame of the caller's audio. */
export interface CallerFrame {
  /** Encoded in the adapter's format (G.711 bytes, or PCM16 little-endian bytes). */
  readonly payload: Uint8Array;
  /** The same frame as PCM samples. */
  readonly pcm: Int16Array;
  /** Capture time of its first sample, µs since the epoch. */
  readonly timestamp: number;
}

/** What the runtime gives a driver for one call. */
export interface AgentLink {
  /** The call id. */
  readonly sid: string;
  /** The agent's configured name. */
  readonly agent: string;
  /** The caller's and callee's addresses. */
  readonly call: { readonly from: string; readonly to: string; readonly direction: string };
  /** Parameters given when the agent was attached. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Tagged with the sid and agent. */
  readonly log: Logger;
  /** Aborted when the binding ends. */
  readonly signal: AbortSignal;
  /** Queues the agent's audio (encoded in the adapter's format) for the caller. */
  play(audio: Uint8Array, item?: string): void;
  /** Queues a mark; `onPlayed` runs once the audio before it was played (or cleared). */
  mark(name: string, onPlayed: (cleared: boolean) => void): boolean;
  /** Drops the queued audio at once (with a short fade). */
  clear(): ClearResult;
  /** True while the agent's audio plays. */
  readonly playing: boolean;
  /** Milliseconds of `item` played to the caller so far. */
  playedMs(item: string): number;
  /** The item playing now and how much of it was played, if any. */
  readonly current: { readonly id: string; readonly playedMs: number } | undefined;
  /** Ends the binding with an `agent failed` event saying `reason`. */
  fail(reason: string): void;
  /** Reports an interruption the driver handled itself (e.g. a Realtime server's VAD). */
  interrupted(report: { readonly playedMs: number; readonly words?: string }): void;
  /** Pauses (true) or resumes (false) the agent's queued audio: silence while paused. */
  pause(paused: boolean): void;
  /**
   * Moves within `item` while it plays: `"start"` replays it, a number skips that many
   * ms ahead (negative: back). False when `item` is not playing now.
   */
  seek(item: string, to: "start" | number): boolean;
  /** Silences (true) or restores (false) the agent's audio to the caller; it still plays on. */
  muteDownlink(muted: boolean): void;
  /** Asks the control plane to hang up the call. */
  hangup(): Promise<void>;
  /** Plays DTMF digits to the caller (RFC 4733 on a SIP leg; rejects on a leg without). */
  digits(digits: string): Promise<void>;
  /** Hands the caller to another agent (by name) or address. */
  transfer(target: { readonly agent: string } | { readonly to: string }): Promise<void>;
  /**
   * Opens a recording of the agent's own, `<recordings dir>/<name>.wav` (mono PCM16 at
   * `sampleRate`); rejects when no recordings directory is configured.
   */
  record(name: string, sampleRate: number): Promise<OpenRecording>;
  /**
   * Places a second leg (a new outbound call) and bridges it to the caller once answered:
   * `listener` gets its statuses and the callee's audio; the returned leg takes the audio
   * for the callee. Rejects when the control plane refuses it.
   */
  dial(input: DialInput, listener: DialListener): Promise<DialLeg>;
}

/**
 * A running agent for one call.
 *
 * An implementation MUST NOT throw from `audio`/`dtmf`/`turn` (report trouble through
 * `link.fail`), MUST bound what it buffers, and MUST release everything on `close`.
 */
export interface AgentDriver {
  /** One frame of the caller's audio, in order. */
  audio(frame: CallerFrame): void;
  /** A DTMF digit from the caller. */
  dtmf?(digit: string, at: number): void;
  /** A speech recognizer's result on the caller's track (when an ASR tap runs on the call). */
  transcript?(result: AsrResult): void;
  /** The engine's endpointing and barge-in signals, when the adapter uses them. */
  turn?(signal: TurnSignal, turnAudio: Int16Array | undefined): void;
  /** The engine cut the agent's audio on barge-in: what had been played. Returns the words
   * played, for text replies. */
  interrupted?(report: { readonly playedMs: number; readonly item?: string }): {
    readonly words?: string;
  } | void;
  /** Ends the agent: `reason` is `"detached"`, `"replaced"`, `"call_ended"` or a failure. */
  close(reason: string): Promise<void>;
}

/** A kind of agent (one per config entry). */
export interface AgentAdapter {
  /** The audio format the driver reads and writes. */
  readonly format: AgentAudioFormat;
  /**
   * True when the engine's turn detection drives barge-in (ducking and flushing the
   * playout); false when the agent has its own (a Twilio bot's `clear`, a Realtime
   * server's VAD).
   */
  readonly engineBargeIn: boolean;
  /** Opens the agent for one call; rejects when it cannot be reached. */
  open(link: AgentLink): Promise<AgentDriver>;
}
