/**
 * The AF_XDP engine between two network namespaces over a veth pair (root): a peer in its own
 * namespace sends RTP from an ordinary UDP socket to a call port; bpf/xdp_rtp.bpf.o redirects
 * it to the engine's XSK, the shard hands it to JS through the RX ring, JS echoes it through
 * the TX ring, the shard builds the Ethernet/IPv4/UDP frame itself (ffi/pkt) and sends it
 * through the XSK. The peer's kernel delivers the echo only if our IP and UDP checksums are
 * right. Everything else on the interface (ARP, TCP, UDP to other ports) still reaches the
 * kernel (XDP_PASS).
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { requireOrSkip } from "../_lib/env.ts";
import { canUseNetns, vethPair } from "../_lib/netns.ts";
import { openEchoEngine } from "../_lib/native_echo.ts";
import { nativeLibrary } from "../../ffi/mod.ts";

const PEER = new URL("./_rtp_peer.ts", import.meta.url).pathname;

interface PeerResult {
  sent: number;
  echoed: number;
  bad: number;
  fromPort: number;
  rttP50Us: number;
  rttP99Us: number;
}

async function runPeer(
  pair: { spawnInPeer(cmd: string, args: string[]): Deno.ChildProcess },
  host: string,
  port: number,
  count: number,
): Promise<PeerResult> {
  const child = pair.spawnInPeer(Deno.execPath(), [
    "run",
    "--allow-all",
    "--unstable-net",
    PEER,
    host,
    String(port),
    String(count),
    "32",
  ]);
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert(out.success, `peer failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text.split("\n").at(-1)!) as PeerResult;
}

function xdpAvailable(): boolean {
  try {
    nativeLibrary();
    return canUseNetns();
  } catch {
    return false; // library not built: reported by requireOrSkip below
  }
}

Deno.test({
  name: "xdp engine echoes RTP from another namespace through AF_XDP, checksums accepted",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!requireOrSkip(xdpAvailable(), "needs root, iproute2 and the built native library")) return;
    await using pair = await vethPair();
    await using echo = openEchoEngine({
      kind: "xdp",
      ifname: pair.local,
      host: pair.localIp,
      portMin: 30000,
      portMax: 30100,
    });
    const count = 3000;
    const result = await runPeer(pair, pair.localIp, echo.port, count);
    assertEquals(result.bad, 0);
    assertEquals(result.echoed, count, `echoed ${result.echoed} of ${count}`);
    assertEquals(result.fromPort, echo.port, "echo leaves from the call's port");
    const [rxPkts, , malformed] = echo.stats();
    assertEquals(Number(rxPkts), count, "every datagram came in through the XSK");
    assertEquals(Number(malformed), 0);
  },
});

Deno.test({
  name: "xdp engine passes what is not RTP for a call (ARP, TCP, UDP to other ports) to the kernel",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!requireOrSkip(xdpAvailable(), "needs root, iproute2 and the built native library")) return;
    await using pair = await vethPair();
    await using echo = openEchoEngine({
      kind: "xdp",
      ifname: pair.local,
      host: pair.localIp,
      portMin: 30000,
      portMax: 30100,
    });
    // TCP (and the ARP the peer needs first) reaches the kernel: a connection completes.
    const tcp = Deno.listen({ hostname: pair.localIp, port: 0 });
    const accepted = tcp.accept();
    const connect = pair.spawnInPeer("bash", [
      "-c",
      `exec 3<>/dev/tcp/${pair.localIp}/${(tcp.addr as Deno.NetAddr).port} && echo -n tcp >&3`,
    ]);
    const conn = await accepted;
    const buf = new Uint8Array(8);
    const n = await conn.read(buf);
    assertEquals(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "tcp");
    assert((await connect.output()).success);
    conn.close();
    tcp.close();
    // A kernel socket in the RTP range whose port no call holds still gets its datagrams.
    const plain = Deno.listenDatagram({ transport: "udp", hostname: pair.localIp, port: 0 });
    using _closePlain = { [Symbol.dispose]: () => plain.close() };
    const plainPort = (plain.addr as Deno.NetAddr).port;
    const received = plain.receive();
    const send = pair.spawnInPeer("bash", [
      "-c",
      `echo -n hello > /dev/udp/${pair.localIp}/${plainPort}`,
    ]);
    assert((await send.output()).success);
    const [bytes] = await received;
    assertEquals(new TextDecoder().decode(bytes), "hello");
    assertEquals(echo.echoed, 0);
  },
});

Deno.test({
  name: "xdp engine runs one shard per NIC queue: each queue's packets reach JS through its shard",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!requireOrSkip(xdpAvailable(), "needs root, iproute2 and the built native library")) return;
    if (!requireOrSkip(navigator.hardwareConcurrency >= 2, "needs 2 CPUs to pick 2 queues")) return;
    await using pair = await vethPair({ queues: 2 });
    // veth delivers on the RX queue numbered as the sender's TX queue; XPS maps CPU i to TX
    // queue i, so a sender pinned to CPU i lands on our queue i, i.e. shard i.
    for (const i of [0, 1]) {
      const xps = pair.spawnInPeer("sh", [
        "-c",
        `echo ${1 << i} > /sys/class/net/${pair.peer}/queues/tx-${i}/xps_cpus`,
      ]);
      assert((await xps.output()).success, "XPS set");
    }
    await using echo = openEchoEngine({
      kind: "xdp",
      ifname: pair.local,
      shards: 2,
      host: pair.localIp,
      portMin: 30000,
      portMax: 30100,
    });
    const counts: number[] = [];
    for (const cpu of [0, 1]) {
      const child = pair.spawnInPeer("taskset", [
        "-c",
        String(cpu),
        Deno.execPath(),
        "run",
        "--allow-all",
        "--unstable-net",
        PEER,
        pair.localIp,
        String(echo.port),
        String(500 * (cpu + 1)),
        "16",
      ]);
      const out = await child.output();
      assert(out.success, new TextDecoder().decode(out.stderr));
      const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
      assertEquals(result.echoed, 500 * (cpu + 1));
      assertEquals(result.bad, 0);
      counts.push(result.echoed);
    }
    assertEquals(Number(echo.stats(0)[0]), counts[0], "queue 0 -> shard 0");
    assertEquals(Number(echo.stats(1)[0]), counts[1], "queue 1 -> shard 1");
  },
});

Deno.test({
  name: "xdp engine counts hostile frames as malformed, never crashes, and keeps echoing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!requireOrSkip(xdpAvailable(), "needs root, iproute2 and the built native library")) return;
    const bin = await Deno.makeTempFile({ prefix: "hostile-" });
    try {
      const root = new URL("../../", import.meta.url).pathname;
      const build = await new Deno.Command("gcc", {
        args: [
          "-std=gnu11",
          "-O1",
          "-o",
          bin,
          `${root}tests/ffi/_hostile_frames.c`,
          `${root}ffi/pkt/udp4.c`,
        ],
        stderr: "piped",
      }).output();
      assert(build.success, new TextDecoder().decode(build.stderr));
      await using pair = await vethPair();
      await using echo = openEchoEngine({
        kind: "xdp",
        ifname: pair.local,
        host: pair.localIp,
        portMin: 30000,
        portMax: 30100,
      });
      const mac = (await Deno.readTextFile(`/sys/class/net/${pair.local}/address`)).trim();
      const out = await pair.spawnInPeer(bin, [
        pair.peer,
        mac,
        pair.peerIp,
        pair.localIp,
        String(echo.port),
      ]).output();
      const text = new TextDecoder().decode(out.stdout);
      assert(out.success, `${text}${new TextDecoder().decode(out.stderr)}`);
      const expected = Number(/redirected_malformed=(\d+)/.exec(text)![1]);
      // Then ordinary traffic: every packet still comes back (the engine survived the above).
      const result = await runPeer(pair, pair.localIp, echo.port, 200);
      assertEquals(result.echoed, 200);
      assertEquals(result.bad, 0);
      const stats = echo.stats();
      const rtpMalformed = Number(/rtp_malformed=(\d+)/.exec(text)![1]);
      assertEquals(Number(stats[2]), expected, "each redirected hostile frame counted malformed");
      // Broken frames stop in the engine; datagrams with broken RTP reach JS flagged (and the
      // echo harness does not echo those), as on the io_uring engine.
      assertEquals(
        Number(stats[0]),
        200 + rtpMalformed,
        "only the broken-RTP datagrams reached JS",
      );
      assertEquals(echo.malformedSeen, rtpMalformed);
    } finally {
      await Deno.remove(bin);
    }
  },
});
