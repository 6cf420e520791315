/**
 * The `deno` RTP engine: `Deno.listenDatagram` sockets (`bindRtpSockets`), one awaited
 * receive op per datagram. Always available; the fallback of `auto`.
 *
 * @module
 */
import type { Logger } from "../../log/mod.ts";
import { bindRtpSockets, type RtpPortRange } from "../port_allocator.ts";
import { nowMicros } from "../../voice/track.ts";
import type { DatagramHandler, RtpEngine, RtpSockets } from "./types.ts";

/** Receive buffer per datagram: an Ethernet MTU (Deno's default is 1 KiB). */
const RECEIVE_BYTES = 1500;

/**
 * The `deno` engine (stateless: one shared instance is enough).
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { denoRtpEngine } from "./deno_engine.ts";
 * const engine = denoRtpEngine();
 * const sockets = engine.bind("127.0.0.1", { min: 30000, max: 30999 }, false);
 * assertEquals(sockets.port % 2, 0); // RTP on the even port of the range
 * assert(sockets.port >= 30000 && sockets.port <= 30999);
 * sockets.close();
 * ```
 */
export function denoRtpEngine(logger?: Logger): RtpEngine {
  return {
    name: "deno",
    bind(hostname: string, range: RtpPortRange, mux: boolean): RtpSockets {
      const bound = bindRtpSockets(hostname, range, mux);
      let closed = false;
      const loop = async (conn: Deno.DatagramConn, handler: DatagramHandler) => {
        for (;;) {
          let datagram: [Uint8Array, Deno.Addr];
          try {
            datagram = await conn.receive(new Uint8Array(RECEIVE_BYTES));
          } catch (error) {
            if (closed) return;
            logger?.warn("RTP receive failed", { error });
            continue;
          }
          if (closed) return;
          handler(datagram[0], datagram[1] as Deno.NetAddr, nowMicros());
        }
      };
      return {
        port: bound.port,
        rtp: bound.rtp,
        rtcp: bound.rtcp,
        async listen(onRtp, onRtcp) {
          const done = [loop(bound.rtp, onRtp)];
          if (bound.rtcp) done.push(loop(bound.rtcp, onRtcp));
          await Promise.allSettled(done);
        },
        close() {
          if (closed) return;
          closed = true;
          bound.rtp.close();
          bound.rtcp?.close();
          bound.release();
        },
      };
    },
    close: () => Promise.resolve(),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}
