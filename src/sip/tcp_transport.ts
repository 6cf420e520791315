/**
 * SIP over TCP: `Deno.listen` for inbound connections, `Deno.connect` (reused per peer) for
 * outbound ones, each stream framed by {@linkcode SipStreamFramer}.
 *
 * @module
 */
import { SipStreamFramer } from "./framing.ts";
import type { SipPeer, SipReceiver, SipSocket } from "./transport.ts";

/** Options for {@linkcode listenSipTcp}. */
export interface SipTcpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly maxBytes: number;
  readonly receive: SipReceiver;
  /** Connections open at once, beyond which new ones are closed at accept [1024]. */
  readonly maxConnections?: number;
  /** A connection silent this long is closed, ms [300000]. */
  readonly idleTimeoutMs?: number;
  readonly onDrop?: (reason: string, from: SipPeer) => void;
}

const encoder = new TextEncoder();

/**
 * Listens for SIP over TCP.
 *
 * @example
 * ```ts ignore
 * import { listenSipTcp } from "./tcp_transport.ts";
 * await using socket = listenSipTcp({ host: "127.0.0.1", port: 0, maxBytes: 8192, receive: () => {} });
 * ```
 */
export function listenSipTcp(options: SipTcpOptions): SipSocket {
  const { maxConnections = 1024, idleTimeoutMs = 300_000 } = options;
  const listener = Deno.listen({ hostname: options.host, port: options.port, transport: "tcp" });
  const connections = new Map<string, Deno.Conn>();
  const keyOf = (p: { host: string; port: number }) => `${p.host}|${p.port}`;
  let closed = false;

  const serve = async (conn: Deno.Conn, peer: SipPeer) => {
    const key = keyOf(peer);
    connections.set(key, conn);
    const framer = new SipStreamFramer(options.maxBytes);
    const buffer = new Uint8Array(16_384);
    let idle = setTimeout(() => conn.close(), idleTimeoutMs);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        clearTimeout(idle);
        idle = setTimeout(() => conn.close(), idleTimeoutMs);
        for (const message of framer.push(buffer.subarray(0, n))) options.receive(message, peer);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted)) {
        options.onDrop?.(error instanceof Error ? error.message : String(error), peer);
      }
    } finally {
      clearTimeout(idle);
      if (connections.get(key) === conn) connections.delete(key);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };

  (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        if (closed) return;
        continue;
      }
      const addr = conn.remoteAddr as Deno.NetAddr;
      const peer: SipPeer = { transport: "tcp", host: addr.hostname, port: addr.port };
      if (connections.size >= maxConnections) {
        options.onDrop?.("too many connections", peer);
        conn.close();
        continue;
      }
      serve(conn, peer);
    }
  })();

  const close = async () => {
    if (closed) return;
    closed = true;
    listener.close();
    for (const conn of connections.values()) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    connections.clear();
    await Promise.resolve();
  };

  return {
    transport: "tcp",
    port: (listener.addr as Deno.NetAddr).port,
    async send(text: string, to: SipPeer): Promise<boolean> {
      if (closed) return false;
      let conn = connections.get(keyOf(to));
      try {
        if (!conn) {
          conn = await Deno.connect({ hostname: to.host, port: to.port, transport: "tcp" });
          serve(conn, { transport: "tcp", host: to.host, port: to.port });
        }
        const bytes = encoder.encode(text);
        let written = 0;
        while (written < bytes.length) written += await conn.write(bytes.subarray(written));
        return true;
      } catch {
        return false;
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
