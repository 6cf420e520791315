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
  /**
   * A connection silent this long is closed (a half-open one whose peer vanished), ms
   * [120000: Kamailio's `tcp_connection_lifetime`]. Peers reconnect to send later requests.
   */
  readonly idleTimeoutMs?: number;
  /**
   * A message must arrive whole within this long of its first byte, and an accepted
   * connection must deliver its first message within it, ms [10000]: a slow sender
   * dribbling bytes (slowloris) or a connection that never speaks is closed, like an HTTP
   * server's header timeout.
   */
  readonly headerTimeoutMs?: number;
  /** A connection was closed, or a message dropped, and why. */
  readonly onDrop?: (reason: string, from: SipPeer) => void;
}

/** Closes `conn`; one already closed (BadResource) is the expected case and ignored. */
function closeConn(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
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
  const { maxConnections = 1024, idleTimeoutMs = 120_000, headerTimeoutMs = 10_000 } = options;
  const listener = Deno.listen({ hostname: options.host, port: options.port, transport: "tcp" });
  const connections = new Map<string, Deno.Conn>();
  const keyOf = (p: { host: string; port: number }) => `${p.host}|${p.port}`;
  let closed = false;

  /** `accepted`: the peer connected to us (it must speak first, within the header timeout). */
  const serve = async (conn: Deno.Conn, peer: SipPeer, accepted: boolean) => {
    const key = keyOf(peer);
    connections.set(key, conn);
    const framer = new SipStreamFramer(options.maxBytes);
    const buffer = new Uint8Array(16_384);
    const expire = (why: string) => () => {
      options.onDrop?.(why, peer);
      closeConn(conn);
    };
    let idle = setTimeout(expire("idle timeout"), idleTimeoutMs);
    // Running while a message is incomplete (and, on an accepted connection, until its first).
    let header = accepted ? setTimeout(expire("header timeout"), headerTimeoutMs) : undefined;
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        clearTimeout(idle);
        idle = setTimeout(expire("idle timeout"), idleTimeoutMs);
        const messages = framer.push(buffer.subarray(0, n));
        if (messages.length > 0 || framer.pending === 0) {
          clearTimeout(header);
          header = undefined;
        }
        if (framer.pending > 0 && header === undefined) {
          header = setTimeout(expire("header timeout"), headerTimeoutMs);
        }
        for (const message of messages) options.receive(message, peer);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted)) {
        options.onDrop?.(error instanceof Error ? error.message : String(error), peer);
      }
    } finally {
      clearTimeout(idle);
      clearTimeout(header);
      if (connections.get(key) === conn) connections.delete(key);
      closeConn(conn);
    }
  };

  (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closed) return; // close() below ends the pending accept
        // E.g. out of file descriptors: say so, and keep serving the connections we have.
        options.onDrop?.(`accept failed: ${error}`, { transport: "tcp", host: "", port: 0 });
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const addr = conn.remoteAddr as Deno.NetAddr;
      const peer: SipPeer = { transport: "tcp", host: addr.hostname, port: addr.port };
      if (connections.size >= maxConnections) {
        options.onDrop?.("too many connections", peer);
        conn.close();
        continue;
      }
      void serve(conn, peer, true);
    }
  })();

  const close = async () => {
    if (closed) return;
    closed = true;
    listener.close();
    for (const conn of connections.values()) closeConn(conn);
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
          void serve(conn, { transport: "tcp", host: to.host, port: to.port }, false);
        }
        const bytes = encoder.encode(text);
        let written = 0;
        while (written < bytes.length) written += await conn.write(bytes.subarray(written));
        return true;
      } catch (error) {
        // The peer is unreachable or went away: a lost message (the transaction layer times
        // out or retries); the SipSocket contract is to report it, not to throw.
        options.onDrop?.(`send failed: ${error}`, to);
        return false;
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
