/**
 * Binding RTP sockets inside a configured port range: even RTP ports, RTCP on the next
 * (odd) port unless RTCP is multiplexed.
 *
 * @module
 */

/**
 * An inclusive UDP port range for RTP.
 *
 * @example
 * ```ts
 * import type { RtpPortRange } from "./port_allocator.ts";
 * const range: RtpPortRange = { min: 10000, max: 20000 };
 * ```
 */
export interface RtpPortRange {
  readonly min: number;
  readonly max: number;
}

/** The default range (Asterisk's rtp.conf default). */
export const DEFAULT_RTP_PORT_RANGE: RtpPortRange = { min: 10000, max: 20000 };

/** Ports this process holds, so concurrent opens do not race for the same pair. */
const held = new Set<number>();
let cursor = -1;

/** RTP ports this process holds now (one per open session): a leak check. */
export function heldRtpPorts(): number {
  return held.size;
}

/** @internal The sockets of one RTP session. */
export interface BoundSockets {
  readonly rtp: Deno.DatagramConn;
  readonly rtcp: Deno.DatagramConn | undefined;
  readonly port: number;
  release(): void;
}

/**
 * @internal Binds an even RTP port in `range` (and `port + 1` for RTCP unless `mux`),
 * trying every even port once from a rotating start.
 */
export function bindRtpSockets(
  hostname: string,
  range: RtpPortRange,
  mux: boolean,
): BoundSockets {
  const min = range.min + (range.min % 2);
  const max = range.max - (mux ? 0 : 1);
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1024 || max > 65535 || min > max) {
    throw new RangeError(`Invalid RTP port range: ${range.min}-${range.max}`);
  }
  const slots = Math.floor((max - min) / 2) + 1;
  if (cursor < 0) cursor = Math.floor(Math.random() * slots);
  for (let i = 0; i < slots; i++) {
    const port = min + ((cursor + i) % slots) * 2;
    if (held.has(port)) continue;
    let rtp: Deno.DatagramConn | undefined;
    try {
      rtp = Deno.listenDatagram({ transport: "udp", hostname, port });
      const rtcp = mux
        ? undefined
        : Deno.listenDatagram({ transport: "udp", hostname, port: port + 1 });
      cursor = (cursor + i + 1) % slots;
      held.add(port);
      return { rtp, rtcp, port, release: () => held.delete(port) };
    } catch (error) {
      rtp?.close();
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  throw new Deno.errors.AddrInUse(
    `Cannot bind RTP socket: no free port pair in ${range.min}-${range.max}`,
  );
}
