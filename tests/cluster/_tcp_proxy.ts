/**
 * A TCP proxy a test controls, to cut one process off from a server (e.g. one cluster node
 * from Redis) while everything else still reaches it: `cut()` drops every connection and
 * refuses new ones until `restore()`.
 *
 * @module
 */

/** A running proxy. */
export interface TcpProxy extends AsyncDisposable {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Drops every proxied connection; new ones are closed at once until {@linkcode restore}. */
  cut(): void;
  /** Proxies new connections again. */
  restore(): void;
}

/** Proxies 127.0.0.1:<port> to `target`. */
export function startTcpProxy(target: { hostname: string; port: number }): TcpProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let cut = false;
  const close = (conn: Deno.Conn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error; // closed already
    }
  };
  const serve = async (client: Deno.Conn) => {
    if (cut) return close(client);
    open.add(client);
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect(target);
    } catch {
      return close(client); // the target is down: so is the proxied connection
    }
    open.add(upstream);
    const end = () => {
      close(client);
      close(upstream);
    };
    // Either side ending (or the cut) ends both; the pipes' errors are that end.
    client.readable.pipeTo(upstream.writable).catch(() => {}).finally(end);
    upstream.readable.pipeTo(client.writable).catch(() => {}).finally(end);
  };
  const accepting = (async () => {
    for await (const conn of listener) void serve(conn);
  })().catch(() => {}); // the listener closed
  return {
    port: (listener.addr as Deno.NetAddr).port,
    cut() {
      cut = true;
      for (const conn of [...open]) close(conn);
    },
    restore() {
      cut = false;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of [...open]) close(conn);
      await accepting;
    },
  };
}
