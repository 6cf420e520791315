/**
 * A user-space UDP path between the browser and the relay, for network-change tests: the
 * browser's QUIC goes to the proxy's front port; the proxy relays each client flow through an
 * upstream socket of its own. {@linkcode UdpPath.changeNetwork} replaces every upstream socket,
 * so from then on the relay sees the browser at a new address and port and nothing sent to the
 * old one arrives: what a NAT rebinding or a phone moving from one network to another looks
 * like from the server. (This kernel has no netem or network namespaces with routing for the
 * browser's side, so the path is modelled here in user space.)
 *
 * @module
 */

/** Datagrams carried through one generation of upstream sockets. */
export interface PathCounts {
  toRelay: number;
  fromRelay: number;
}

/** The running proxy. */
export interface UdpPath extends Disposable {
  /** The front port the browser connects to. */
  readonly port: number;
  /** Counts per network generation (index 0 = before the first change). */
  readonly generations: readonly PathCounts[];
  /** Drops every upstream socket: new flows, from new ports, for all traffic from now on. */
  changeNetwork(): void;
  /**
   * The old network is gone for good: every flow seen so far is dropped both ways from now on
   * (the browser's connection can only time out); flows from new browser ports pass.
   */
  cutOldFlows(): void;
}

/** Starts a path to `target` (the relay's UDP address). */
export function udpPath(target: Deno.NetAddr): UdpPath {
  const front = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  let upstream = new Map<string, Deno.DatagramConn>();
  const generations: PathCounts[] = [{ toRelay: 0, fromRelay: 0 }];
  const dead = new Set<string>();
  const closeAll = (sockets: Map<string, Deno.DatagramConn>) => {
    for (const socket of sockets.values()) socket.close();
  };
  (async () => {
    for await (const [data, from] of front) {
      const peer = from as Deno.NetAddr;
      const key = `${peer.hostname}:${peer.port}`;
      if (dead.has(key)) continue;
      const counts = generations[generations.length - 1];
      let socket = upstream.get(key);
      if (!socket) {
        const conn = socket = Deno.listenDatagram({
          hostname: "127.0.0.1",
          port: 0,
          transport: "udp",
        });
        upstream.set(key, conn);
        (async () => {
          for await (const [reply] of conn) {
            if (dead.has(key)) continue;
            counts.fromRelay++;
            await front.send(reply, peer);
          }
        })().catch((error) => {
          // Closed by changeNetwork() or at the end: the old path is gone.
          if (!(error instanceof Deno.errors.BadResource)) console.error("udp path", error);
        });
      }
      counts.toRelay++;
      await socket.send(data, target).catch((error) => console.error("udp path send", error));
    }
  })().catch((error) => {
    if (!(error instanceof Deno.errors.BadResource)) console.error("udp path front", error);
  });
  return {
    port: (front.addr as Deno.NetAddr).port,
    generations,
    changeNetwork() {
      const old = upstream;
      upstream = new Map();
      generations.push({ toRelay: 0, fromRelay: 0 });
      closeAll(old);
    },
    cutOldFlows() {
      for (const key of upstream.keys()) dead.add(key);
      generations.push({ toRelay: 0, fromRelay: 0 });
    },
    [Symbol.dispose]() {
      front.close();
      closeAll(upstream);
    },
  };
}
