/**
 * A veth pair between this (root) network namespace and a fresh one, for the AF_XDP tests and
 * benchmarks: `<name>a` stays here with 10.199.N.1/24, `<name>b` lives in netns `<name>` with
 * 10.199.N.2/24. Needs root and iproute2. Disposing deletes the namespace (which deletes the
 * pair); disposing twice is a no-op.
 *
 * @module
 */

/** One veth pair across two namespaces. */
export interface VethPair extends AsyncDisposable {
  /** The namespace of the peer end. */
  readonly netns: string;
  /** The interface in this namespace (attach XDP here). */
  readonly local: string;
  /** The interface in `netns`. */
  readonly peer: string;
  /** Address of `local`. */
  readonly localIp: string;
  /** Address of `peer`. */
  readonly peerIp: string;
  /** Runs a command inside `netns` (`ip netns exec`), returning its child process. */
  spawnInPeer(cmd: string, args: string[]): Deno.ChildProcess;
}

async function ip(args: string[], allowFail = false): Promise<string> {
  const out = await new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stderr).trim();
  if (!out.success && !allowFail) throw new Error(`Cannot run ip ${args.join(" ")}: ${text}`);
  return text;
}

/**
 * Creates a pair with a random subnet 10.199.N.0/24 not used by another pair (retried), with
 * `queues` RX/TX queues on each end [1].
 *
 * @example
 * ```ts ignore
 * import { vethPair } from "./netns.ts";
 * await using pair = await vethPair();
 * console.log(pair.local, pair.peerIp);
 * ```
 */
export async function vethPair(options: { queues?: number } = {}): Promise<VethPair> {
  const q = String(options.queues ?? 1);
  for (let attempt = 0; attempt < 20; attempt++) {
    const n = 1 + Math.floor(Math.random() * 250);
    const name = `ccx${n}`;
    // `ip netns add` fails when the name (so the subnet) is taken by a concurrent test.
    const taken = await ip(["netns", "add", name], true);
    if (taken) continue;
    try {
      await ip([
        ...["link", "add", `${name}a`, "numtxqueues", q, "numrxqueues", q, "type", "veth"],
        ...["peer", "name", `${name}b`, "numtxqueues", q, "numrxqueues", q],
      ]);
      await ip(["link", "set", `${name}b`, "netns", name]);
      await ip(["addr", "add", `10.199.${n}.1/24`, "dev", `${name}a`]);
      await ip(["link", "set", `${name}a`, "up"]);
      await ip(["-n", name, "addr", "add", `10.199.${n}.2/24`, "dev", `${name}b`]);
      await ip(["-n", name, "link", "set", `${name}b`, "up"]);
      await ip(["-n", name, "link", "set", "lo", "up"]);
    } catch (error) {
      await ip(["netns", "del", name], true);
      await ip(["link", "del", `${name}a`], true);
      throw error;
    }
    let disposed = false;
    return {
      netns: name,
      local: `${name}a`,
      peer: `${name}b`,
      localIp: `10.199.${n}.1`,
      peerIp: `10.199.${n}.2`,
      spawnInPeer(cmd: string, args: string[]): Deno.ChildProcess {
        return new Deno.Command("ip", {
          args: ["netns", "exec", name, cmd, ...args],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
      },
      async [Symbol.asyncDispose]() {
        if (disposed) return;
        disposed = true;
        await ip(["netns", "del", name], true);
        await ip(["link", "del", `${name}a`], true); // gone with the namespace already, normally
      },
    };
  }
  throw new Error("Cannot create a veth pair: no free 10.199.N.0/24 subnet after 20 tries");
}

/** True when this process may create namespaces (root with iproute2). */
export function canUseNetns(): boolean {
  try {
    Deno.statSync("/usr/sbin/ip");
  } catch {
    return false; // no iproute2
  }
  return Deno.uid() === 0;
}
