/**
 * The sockets a child process has bound, read from Linux's `/proc`.
 *
 * A port probed free in the test (bind 0, read, close) and handed to a child on its command line
 * can be taken by a test beside it before the child binds it: the child then fails to start, or
 * worse, something else answers on that port. A child told to pick its own port (sipp `-p 0`)
 * binds it itself, so nothing can come between; this reads back which port it got. No library
 * reads another process's sockets (`ss -p` does the same walk, but its text is for people), so
 * it is written out here.
 *
 * @module
 */

/** One IPv4 socket of a process. */
export interface BoundSocket {
  /** The file descriptor in the process (lower = opened earlier, when none was closed). */
  readonly fd: number;
  readonly host: string;
  readonly port: number;
}

/** `/proc/net/{udp,tcp}` socket states: an unconnected UDP socket is 07, a listening TCP 0A. */
const STATE = { udp: "07", tcp: "0A" } as const;

/**
 * The process's bound IPv4 sockets of `transport` (UDP: unconnected ones; TCP: listening ones),
 * lowest file descriptor first; none once it has exited.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { boundSockets } from "./bound_ports.ts";
 *
 * using socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * const mine = await boundSockets(Deno.pid, "udp");
 * const port = (socket.addr as Deno.NetAddr).port;
 * assertEquals(mine.find((s) => s.port === port)?.host, "127.0.0.1");
 * ```
 */
export async function boundSockets(
  pid: number,
  transport: "udp" | "tcp",
): Promise<BoundSocket[]> {
  try {
    // The process's own network namespace: its /proc/<pid>/net, not the reader's.
    const table = await Deno.readTextFile(`/proc/${pid}/net/${transport}`);
    const byInode = new Map<string, { host: string; port: number }>();
    for (const line of table.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== STATE[transport]) continue;
      const [hexHost, hexPort] = cols[1].split(":");
      byInode.set(cols[9], { host: ipv4(hexHost), port: parseInt(hexPort, 16) });
    }
    const sockets: BoundSocket[] = [];
    for await (const entry of Deno.readDir(`/proc/${pid}/fd`)) {
      const target = await Deno.readLink(`/proc/${pid}/fd/${entry.name}`).catch(() => "");
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      const address = inode === undefined ? undefined : byInode.get(inode);
      if (address) sockets.push({ fd: Number(entry.name), ...address });
    }
    return sockets.sort((a, b) => a.fd - b.fd);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** `0100007F` (the kernel's bytes of a little-endian word) → `127.0.0.1`. */
function ipv4(hex: string): string {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return bytes.reverse().join(".");
}
