/**
 * Which network interface the AF_XDP engine must attach to: the one that carries the RTP
 * bind address. AF_XDP sees only the frames of one interface, so `cc_engine_cfg.ifname` is
 * required (ffi/xdp/xdp_engine.c); this derives it from the address the RTP sockets bind.
 *
 * @module
 */

/**
 * The interface whose IPv4 address is `host`; `"lo"` for a loopback or wildcard host (a
 * same-host peer, as in the sipp suite); undefined when no interface has that address.
 *
 * @example
 * ```ts
 * import { xdpInterfaceFor } from "./interface.ts";
 * console.log(xdpInterfaceFor("127.0.0.1")); // lo
 * ```
 */
export function xdpInterfaceFor(host: string): string | undefined {
  if (host === "0.0.0.0" || host.startsWith("127.")) return "lo";
  for (const i of Deno.networkInterfaces()) {
    if (i.family === "IPv4" && i.address === host) return i.name;
  }
  return undefined;
}
