/**
 * Probation for an RTP source that wants to replace the established one — a new address
 * (re-latching) or a new SSRC from the latched address.
 *
 * Why: one packet must never be enough to take over a call. Before this, a single packet
 * with a new SSRC from the caller's own address and port switched the stream at once and
 * the caller's real SSRC was then dropped for good as "stale": five spoofed packets silenced
 * the caller (issue 17). The policy now follows two well-known designs:
 *
 * - rtpengine's endpoint learning and `strict-source` (sipwise/rtpengine
 *   `daemon/media_socket.c`, `media_packet_address_check()`, and `docs/rtpengine.md`
 *   `--endpoint-learning`): once an endpoint is confirmed, packets from anywhere else are
 *   dropped (counted as errors), never adopted on sight; a change is learned again only
 *   from what keeps arriving, not from one packet.
 * - RFC 3550 Appendix A.1's source probation (`MIN_SEQUENTIAL`): a new source is valid only
 *   after a run of packets with consecutive sequence numbers.
 *
 * So a candidate is adopted only when (a) it has sent `packets` consecutive, in-sequence
 * packets and (b) the established source has been silent for the silence window meanwhile
 * (it stopped: a genuine new stream, a re-INVITE, a NAT rebinding). A packet of the
 * established source resets the candidate, and the established source is never
 * blacklisted: should the candidate win and then stop, the old one can come back the same
 * way.
 *
 * @module
 */

/**
 * The run of in-sequence packets of one candidate source.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { SourceProbation } from "./source_probation.ts";
 * const probation = new SourceProbation(3);
 * probation.offer(0x2222, 7); // false: 1 packet
 * probation.offer(0x2222, 8); // false: 2 in sequence
 * assertEquals(probation.offer(0x2222, 9), true); // 3 in sequence
 * ```
 */
export class SourceProbation<K = number | string> {
  readonly #packets: number;
  #key: K | undefined;
  #lastSequence = -1;
  #run = 0;

  /** A candidate needs `packets` (≥ 1) consecutive in-sequence packets. */
  constructor(packets: number) {
    this.#packets = Math.max(1, Math.floor(packets));
  }

  /** Packets a candidate needs. */
  get packets(): number {
    return this.#packets;
  }

  /** The candidate's current run of in-sequence packets. */
  get run(): number {
    return this.#run;
  }

  /** Forgets the candidate (the established source spoke, or a new stream was adopted). */
  reset(): void {
    this.#key = undefined;
    this.#lastSequence = -1;
    this.#run = 0;
  }

  /**
   * Counts one packet of candidate `key` with 16-bit `sequence`. A packet of another
   * candidate, or out of sequence, starts a new run. Returns whether the run is long
   * enough now.
   */
  offer(key: K, sequence: number): boolean {
    if (key === this.#key && sequence === ((this.#lastSequence + 1) & 0xffff)) this.#run++;
    else {
      this.#key = key;
      this.#run = 1;
    }
    this.#lastSequence = sequence;
    return this.#run >= this.#packets;
  }
}
