/**
 * Symmetric RTP (RFC 4961 / comedia-style NAT traversal) for an `RtpSession`: where
 * to send RTP and RTCP, and which source's packets to accept, latching onto the first valid
 * source and re-latching only after the current one went quiet and the new one passed
 * probation (see `source_probation.ts` for the policy and where it comes from).
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { RtpCounters, RtpEndpoint } from "./session_types.ts";
import { SourceProbation } from "./source_probation.ts";

/**
 * What {@linkcode SourceLatch.accept} decided: the packet is from the source we listen to
 * (`"same"`), it latched a (new) source just now (`"latched"`), or it is dropped (`"other"`).
 */
export type SourceVerdict = "same" | "latched" | "other";

/** Options for a {@linkcode SourceLatch}. */
export interface SourceLatchInit {
  /** Latch onto the source (else accept only the SDP remote). */
  readonly symmetric: boolean;
  /** A latched source silent for this long may be replaced, µs. */
  readonly relatchUs: number;
  /** In-sequence packets a new source must send before it replaces the latched one. */
  readonly probationPackets: number;
  /** RTCP has a port of its own (not rtcp-mux). */
  readonly rtcpPort: boolean;
  /** The session's counters (`relatches`). */
  readonly count: RtpCounters;
  readonly logger: Logger | undefined;
}

/**
 * The far end's addresses and the latch (see `RtpSession.setRemote`).
 *
 * @example
 * ```ts ignore
 * const latch = new SourceLatch({
 *   symmetric: true, relatchUs: 1e6, probationPackets: 3, rtcpPort: true, count, logger,
 * });
 * latch.setRemote({ hostname: "192.0.2.10", port: 40000 });
 * if (latch.accept(from, nowMicros(), packet.sequenceNumber) === "other") count.wrongSource++;
 * ```
 */
export class SourceLatch {
  readonly #init: SourceLatchInit;
  #remote: Deno.NetAddr | undefined;
  #remoteRtcp: Deno.NetAddr | undefined;
  #sdpRemote: RtpEndpoint | undefined;
  #latched = false;
  #lastFromRemoteUs = 0;
  readonly #probation: SourceProbation<string>;

  constructor(init: SourceLatchInit) {
    this.#init = init;
    this.#probation = new SourceProbation(init.probationPackets);
  }

  /** Where RTP goes now (the latched source, else the SDP remote). */
  get remote(): Deno.NetAddr | undefined {
    return this.#remote;
  }

  /** Where RTCP goes now. */
  get remoteRtcp(): Deno.NetAddr | undefined {
    return this.#remoteRtcp;
  }

  /** Whether a source is latched. */
  get latched(): boolean {
    return this.#latched;
  }

  /**
   * Points at a (new) far end and clears the latch. The same far end again (a session
   * refresh re-INVITE) keeps the latch: clearing it would let any packet latch next.
   */
  setRemote(remote: RtpEndpoint): void {
    const sdp = this.#sdpRemote;
    if (
      sdp && this.#latched && sdp.hostname === remote.hostname && sdp.port === remote.port &&
      sdp.rtcpPort === remote.rtcpPort
    ) return;
    this.#sdpRemote = remote;
    this.#probation.reset();
    this.#latched = false;
    this.#remote = { transport: "udp", hostname: remote.hostname, port: remote.port };
    this.#remoteRtcp = {
      transport: "udp",
      hostname: remote.hostname,
      port: remote.rtcpPort ?? (this.#init.rtcpPort ? remote.port + 1 : remote.port),
    };
  }

  /**
   * Is RTCP from `from` the far end's? Only from an address we already trust: where we send
   * RTCP (the SDP's RTCP port, or the latched source's), or the latched RTP source itself
   * (with rtcp-mux, and endpoints that send RTCP from their RTP port). The host alone is not
   * enough: anyone behind the caller's NAT, or spoofing its address, could end the stream with
   * a BYE. Before anything latched (or with no far end known) nothing is trusted. As with
   * rtpengine's `strict-source`, RTCP never latches a source by itself.
   */
  acceptsRtcp(from: Deno.NetAddr): boolean {
    if (!this.#latched && !this.#sdpRemote) return false;
    return sameAddress(from, this.#remoteRtcp) || sameAddress(from, this.#remote);
  }

  /**
   * Symmetric RTP: is `from` the source we listen to (latching it when allowed)? `sequence`
   * is the packet's RTP sequence number: a new source re-latches only after the latched one
   * was silent for `relatchUs` and the new one sent `probationPackets` in sequence.
   */
  accept(from: Deno.NetAddr, now: number, sequence: number): SourceVerdict {
    const remote = this.#remote;
    const same = remote !== undefined && remote.port === from.port &&
      remote.hostname === from.hostname;
    if (!this.#init.symmetric) {
      if (!same) return "other";
      this.#lastFromRemoteUs = now;
      return "same";
    }
    if (this.#latched) {
      if (same) {
        this.#lastFromRemoteUs = now;
        this.#probation.reset();
        return "same";
      }
      const proven = this.#probation.offer(`${from.hostname}:${from.port}`, sequence);
      if (now - this.#lastFromRemoteUs < this.#init.relatchUs || !proven) return "other";
      this.#probation.reset();
      this.#init.count.relatches++;
      this.#init.logger?.info("RTP source re-latched", { from: `${from.hostname}:${from.port}` });
    }
    this.#latchOnto(from, now);
    return "latched";
  }

  /**
   * What an engine's own source filter decided (it runs this same policy where the packets
   * arrive, see `RtpSockets.filter`): `from` latched — a re-latch when `relatch` — or, with
   * `latched` false, the source listened to spoke. Keeps this latch's state (where RTP and
   * RTCP go, which RTCP is trusted) as `accept` would have left it.
   */
  decided(from: Deno.NetAddr, now: number, latched: boolean, relatch: boolean): void {
    this.#probation.reset();
    if (!latched) {
      this.#lastFromRemoteUs = now;
      return;
    }
    if (relatch) {
      this.#init.count.relatches++;
      this.#init.logger?.info("RTP source re-latched", { from: `${from.hostname}:${from.port}` });
    }
    this.#latchOnto(from, now);
  }

  #latchOnto(from: Deno.NetAddr, now: number): void {
    this.#latched = true;
    this.#lastFromRemoteUs = now;
    this.#remote = { transport: "udp", hostname: from.hostname, port: from.port };
    if (!this.#init.rtcpPort) this.#remoteRtcp = this.#remote;
    else if (!this.#sdpRemote || this.#sdpRemote.hostname !== from.hostname) {
      this.#remoteRtcp = { transport: "udp", hostname: from.hostname, port: from.port + 1 };
    }
  }
}

/** `a` and `b` are the same host and port. */
function sameAddress(a: Deno.NetAddr, b: Deno.NetAddr | undefined): boolean {
  return b !== undefined && a.port === b.port && a.hostname === b.hostname;
}
