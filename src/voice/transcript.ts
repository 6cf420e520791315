/**
 * What a speech recognizer heard on a call's track, as call events: `transcript` (speech
 * start, partial and final text, end of turn) and `asr` (the recognizer's link: connected,
 * reconnecting, failed, or audio that could not be transcribed). One definition shared by
 * the producers (the `asr-tap` plugin, any plugin) and the consumers (the Calls event hub,
 * SSE, webhooks, the SDK), so both sides spell the fields the same way.
 *
 * Times (`start`, `end`) are milliseconds from the start of the call's audio: the capture
 * time of the first frame the tap saw on any of the call's tracks.
 *
 * @module
 */

/** A call's voice track, from the caller's point of view. */
export type TranscriptTrack = "uplink" | "downlink";

/** What a `transcript` event reports. */
export type TranscriptKind = "speech_start" | "partial" | "final" | "end_of_turn";

/**
 * A recognizer result on one of a call's tracks.
 *
 * - `speech_start`: the recognizer heard speech begin (`text` is empty, `start` = `end`).
 * - `partial`: interim text of the words being spoken; later partials and the final replace it.
 * - `final`: text that will not change; `GET /v1/calls/{sid}/transcript` lists these in order.
 * - `end_of_turn`: the speaker finished a turn; `text` is the whole turn's final text.
 *
 * @example
 * ```ts
 * import type { TranscriptEvent } from "@clutchcall/voice/voice";
 * const event: TranscriptEvent = {
 *   type: "transcript", sid: "CA1", at: new Date().toISOString(), track: "uplink",
 *   kind: "final", text: "thank you for calling", start: 1500, end: 2900, confidence: 0.97,
 * };
 * ```
 */
export interface TranscriptEvent {
  /** Discriminant. */
  readonly type: "transcript";
  /** The call id. */
  readonly sid: string;
  /** When the result arrived (ISO 8601). */
  readonly at: string;
  /** Which of the call's tracks was heard. */
  readonly track: TranscriptTrack;
  /** What this result is. */
  readonly kind: TranscriptKind;
  /** The text (empty for `speech_start`). */
  readonly text: string;
  /** Where the speech starts, in ms from the start of the call's audio. */
  readonly start: number;
  /** Where it ends, in ms from the start of the call's audio. */
  readonly end: number;
  /** The recognizer's confidence 0–1, when it gives one. */
  readonly confidence?: number;
}

/** The state of a recognizer link an `asr` event reports. */
export type AsrState = "connected" | "reconnecting" | "failed" | "gap";

/**
 * What happened to the link between a call's track and its recognizer: `connected` (the
 * first time and after each reconnection), `reconnecting` (it dropped; `reason` says why),
 * `failed` (given up, e.g. a refused key; the call goes on untranscribed), `gap` (audio
 * from `start` to `end` ms was not transcribed: the buffer kept while reconnecting
 * overflowed, or the recognizer could not keep up).
 *
 * @example
 * ```ts
 * import type { AsrEvent } from "@clutchcall/voice/voice";
 * const gap: AsrEvent = {
 *   type: "asr", sid: "CA1", at: new Date().toISOString(), track: "uplink",
 *   provider: "deepgram", state: "gap", reason: "reconnect buffer overflowed", start: 4000, end: 9000,
 * };
 * ```
 */
export interface AsrEvent {
  /** Discriminant. */
  readonly type: "asr";
  /** The call id. */
  readonly sid: string;
  /** When it happened (ISO 8601). */
  readonly at: string;
  /** Which of the call's tracks. */
  readonly track: TranscriptTrack;
  /** The recognizer (`deepgram`, `assemblyai`, `openai`). */
  readonly provider: string;
  /** What happened. */
  readonly state: AsrState;
  /** Why, for `reconnecting`, `failed` and `gap`. */
  readonly reason?: string;
  /** For `gap`: the first ms not transcribed, from the start of the call's audio. */
  readonly start?: number;
  /** For `gap`: the end of what was not transcribed. */
  readonly end?: number;
}
