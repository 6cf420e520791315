/**
 * SIP over UDP on `Deno.listenDatagram` (needs `--unstable-net`, which the server runs with
 * for QUIC anyway), with admission before parsing.
 *
 * Why not `node:dgram` (what this file used before): in the running server, Deno's
 * `node:dgram` cost ~1.1 ms of CPU per received datagram (its EventEmitter, a `Buffer` per
 * message and the compatibility layer's polling) against ~0.035 ms for
 * `Deno.listenDatagram` in the same process (issue 15), so a flood of 2,000 datagrams/s
 * saturated the one thread that also carries RTP. `bench/sip_udp_bench.ts` measures both in
 * one run (BENCHMARKS.md, "SIP over UDP: receive cost"). Here one awaited op hands over a
 * datagram and its source, read into one reused buffer.
 *
 * Before a datagram reaches the parser (`datagram_admission.ts`): oversized ones are dropped
 * unread, a first line that is not SIP is dropped without decoding, and a source whose
 * malformed datagrams exceed its budget is muted for a while.
 *
 * @module
 */
import {
  classifyDatagram,
  MalformedBudget,
  type MalformedBudgetOptions,
} from "./datagram_admission.ts";
import type { SipPeer, SipSocket } from "./transport.ts";

/**
 * Receives one datagram. The bytes are valid only during the call (the receive buffer is
 * reused): decode or copy them before returning. Return `false` when the datagram turned out
 * malformed, so its source is charged against its budget.
 */
export type SipUdpReceiver = (bytes: Uint8Array, from: SipPeer) => boolean | void;

/** Why a datagram was dropped before the receiver saw it. */
export type SipUdpDropReason = "oversized" | "not_sip" | "over_budget";

/** Options for {@linkcode listenSipUdp}. */
export interface SipUdpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Datagrams above this size are dropped unread. */
  readonly maxBytes: number;
  readonly receive: SipUdpReceiver;
  /** Counts datagrams dropped before the receiver (keep-alives are not counted). */
  readonly onDrop?: (reason: SipUdpDropReason, from: SipPeer) => void;
  /** The malformed-datagram budget (defaults: see {@linkcode MalformedBudgetOptions}). */
  readonly budget?: MalformedBudgetOptions;
}

/**
 * Binds a UDP SIP socket.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { SipPeer } from "./transport.ts";
 * import { listenSipUdp } from "./udp_transport.ts";
 * const received = Promise.withResolvers<{ text: string; from: SipPeer }>();
 * await using socket = await listenSipUdp({
 *   host: "127.0.0.1",
 *   port: 0,
 *   maxBytes: 8192,
 *   receive: (bytes, from) => received.resolve({ text: new TextDecoder().decode(bytes), from }),
 * });
 * await using peer = await listenSipUdp({ host: "127.0.0.1", port: 0, maxBytes: 8192, receive: () => {} });
 * const options = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
 * assertEquals(await peer.send(options, { transport: "udp", host: "127.0.0.1", port: socket.port }), true);
 * const { text, from } = await received.promise;
 * assertEquals(text, options);
 * assertEquals(from, { transport: "udp", host: "127.0.0.1", port: peer.port });
 * ```
 */
export function listenSipUdp(options: SipUdpOptions): Promise<SipSocket> {
  let conn: Deno.DatagramConn;
  try {
    conn = Deno.listenDatagram({ transport: "udp", hostname: options.host, port: options.port });
  } catch (error) {
    return Promise.reject(error);
  }
  const port = (conn.addr as Deno.NetAddr).port;
  const budget = new MalformedBudget(options.budget);
  let closed = false;

  const receiving = (async () => {
    // One byte more than allowed: a datagram that fills it was larger (and got truncated).
    const buffer = new Uint8Array(options.maxBytes + 1);
    for (;;) {
      let bytes: Uint8Array;
      let addr: Deno.Addr;
      try {
        [bytes, addr] = await conn.receive(buffer);
      } catch (error) {
        if (closed) return;
        // A receive error on a connectionless socket (e.g. an ICMP error surfaced by the
        // kernel) concerns one datagram: keep serving.
        if (error instanceof Deno.errors.BadResource) return;
        continue;
      }
      const net = addr as Deno.NetAddr;
      const from: SipPeer = { transport: "udp", host: net.hostname, port: net.port };
      if (bytes.length > options.maxBytes) {
        options.onDrop?.("oversized", from);
        continue;
      }
      const now = performance.now();
      if (!budget.admits(from.host, now)) {
        options.onDrop?.("over_budget", from);
        continue;
      }
      const kind = classifyDatagram(bytes);
      if (kind === "keepalive") continue;
      if (kind === "not_sip") {
        budget.charge(from.host, now);
        options.onDrop?.("not_sip", from);
        continue;
      }
      if (options.receive(bytes, from) === false) budget.charge(from.host, now);
      else budget.trust(from.host, now);
    }
  })();

  // Sends leave in call order, one datagram in flight at a time: the gateway relies on it (a
  // 100 Trying re-sent for a retransmitted INVITE must never overtake the 200 OK sent just
  // after it, or the peer, already past the 200, fails the call on an unexpected 100).
  const encoder = new TextEncoder();
  let tail: Promise<unknown> = Promise.resolve();
  const send = (text: string, to: SipPeer): Promise<boolean> => {
    const sent = tail.then(async () => {
      if (closed) return false;
      try {
        await conn.send(encoder.encode(text), {
          transport: "udp",
          hostname: to.host,
          port: to.port,
        });
        return true;
      } catch (error) {
        // The SipSocket contract: a send that fails (peer unreachable, socket closed
        // meanwhile, a bad address) reports false, never throws.
        if (error instanceof Error) return false;
        throw error;
      }
    });
    tail = sent;
    return sent;
  };

  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await tail;
      closed = true;
      conn.close();
      await receiving;
    })();

  return Promise.resolve({
    transport: "udp",
    port,
    send,
    close,
    [Symbol.asyncDispose]: close,
  });
}
