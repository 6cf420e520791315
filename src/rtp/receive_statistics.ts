/**
 * Reception statistics of one incoming stream for RTCP reports (RFC 3550 §6.4.1, A.3, A.8):
 * expected and lost packets, fraction lost per interval, interarrival jitter, and the
 * last sender report's time for round-trip estimates.
 *
 * @module
 */
import type { ReportBlock, RtcpPacket } from "./rtcp.ts";

/**
 * A report block about one source (same shape as the RTCP block).
 *
 * @example
 * ```ts
 * import type { ReceiveReport } from "./receive_statistics.ts";
 * const lossPercent = (r: ReceiveReport) => (r.fractionLost / 256) * 100;
 * ```
 */
export type ReceiveReport = ReportBlock;

/** @internal Statistics of the current incoming stream. */
export class ReceiveStatistics {
  #base = -1;
  #highest = -1;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #transit: number | undefined;
  #jitter = 0;
  #lsr = 0;
  #lsrAtMs = 0;

  /** Interarrival jitter in timestamp units. */
  get jitter(): number {
    return this.#jitter;
  }

  /** Counts a delivered packet that takes no part in jitter (RFC 4733 events). */
  count(sequence: number): void {
    if (this.#base < 0) this.#base = sequence;
    if (sequence > this.#highest) this.#highest = sequence;
    this.#received++;
  }

  /** Counts a delivered audio packet and updates the jitter estimate. */
  update(timestamp: number, arrivalUs: number, clockRate: number, sequence: number): void {
    this.count(sequence);
    const arrival = (arrivalUs / 1e6) * clockRate;
    const transit = arrival - timestamp;
    if (this.#transit !== undefined) {
      let d = Math.abs(transit - this.#transit);
      // Timestamps wrap at 2^32: take the short way round.
      if (d > 0x80000000) d = 0x100000000 - d;
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#transit = transit;
  }

  /** Remembers a sender report (for LSR/DLSR). */
  senderReport(sr: Extract<RtcpPacket, { type: "sr" }>, nowMs: number): void {
    this.#lsr = ((sr.ntpSeconds & 0xffff) << 16 | sr.ntpFraction >>> 16) >>> 0;
    this.#lsrAtMs = nowMs;
  }

  /** The report block for the next RTCP report; starts a new interval. */
  report(ssrc: number, _skipped: number, nowMs: number): ReceiveReport {
    const expected = this.#base < 0 ? 0 : this.#highest - this.#base + 1;
    const lost = expected - this.#received;
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval <= 0 || lostInterval <= 0
      ? 0
      : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
    return {
      ssrc,
      fractionLost,
      cumulativeLost: lost,
      highestSeq: Math.max(0, this.#highest) >>> 0,
      jitter: Math.round(this.#jitter) >>> 0,
      lsr: this.#lsr,
      dlsr: this.#lsr ? Math.round(((nowMs - this.#lsrAtMs) / 1000) * 65536) >>> 0 : 0,
    };
  }
}
