/**
 * SIP over UDP on `node:dgram` (event-driven, no `--unstable-net` needed).
 *
 * @module
 */
import dgram from "node:dgram";
import type { SipPeer, SipReceiver, SipSocket } from "./transport.ts";

/** Options for {@linkcode listenSipUdp}. */
export interface SipUdpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Datagrams above this size are dropped unread. */
  readonly maxBytes: number;
  readonly receive: SipReceiver;
  /** Counts dropped datagrams (oversized). */
  readonly onDrop?: (reason: string, from: SipPeer) => void;
}

/**
 * Binds a UDP SIP socket.
 *
 * @example
 * ```ts ignore
 * import { listenSipUdp } from "./udp_transport.ts";
 * await using socket = await listenSipUdp({ host: "127.0.0.1", port: 0, maxBytes: 8192, receive: (bytes, from) => {} });
 * console.log(socket.port);
 * ```
 */
export async function listenSipUdp(options: SipUdpOptions): Promise<SipSocket> {
  const family = options.host.includes(":") ? "udp6" : "udp4";
  const socket = dgram.createSocket({ type: family, recvBufferSize: 4 << 20 });
  const bound = Promise.withResolvers<void>();
  socket.once("error", bound.reject);
  socket.bind(options.port, options.host, () => bound.resolve());
  await bound.promise;
  socket.off("error", bound.reject);
  socket.on("error", () => {/* ICMP errors on a connectionless socket: ignore */});
  socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
    const from: SipPeer = { transport: "udp", host: rinfo.address, port: rinfo.port };
    if (msg.length > options.maxBytes) {
      options.onDrop?.("oversized", from);
      return;
    }
    options.receive(msg, from);
  });
  const port = socket.address().port;
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  // Sends leave in call order. Deno's `node:dgram` sends are async ops that can complete out
  // of order (a burst can go out reversed): a 100 Trying re-sent for a retransmitted INVITE
  // then overtakes the 200 OK sent just after it, and the peer, already past the 200, fails
  // the call on an unexpected 100. One datagram in flight at a time, the rest queued.
  const queue: { text: string; to: SipPeer; done: (sent: boolean) => void }[] = [];
  let head = 0;
  let sending = false;
  const pump = () => {
    const next = queue[head];
    if (!next) {
      queue.length = 0;
      head = 0;
      sending = false;
      return;
    }
    queue[head++] = undefined as never;
    if (head > 1024) {
      queue.splice(0, head);
      head = 0;
    }
    sending = true;
    try {
      socket.send(next.text, next.to.port, next.to.host, (error) => {
        next.done(!error);
        pump();
      });
    } catch {
      next.done(false);
      queueMicrotask(pump);
    }
  };
  return {
    transport: "udp",
    port,
    send(text: string, to: SipPeer): Promise<boolean> {
      return new Promise((resolve) => {
        queue.push({ text, to, done: resolve });
        if (!sending) pump();
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
