/**
 * The per-packet JS of the RTP path, this checkout against another one in the same run:
 * `parseRtp` of a G.711 packet and `RtpSender.sendAudio` into a synchronous (ring-like)
 * socket, as the io_uring engine's `sendNow` is.
 *
 *   deno bench -A bench/rtp_packet_path_bench.ts -- --base /path/to/other/checkout
 *
 * Without `--base` only this checkout is measured. Results: BENCHMARKS.md, "SIP call-rate
 * ramp", per-packet cuts.
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({ args: Deno.args, options: { base: { type: "string" } } });
const here = new URL("..", import.meta.url).href;
const trees: [string, string][] = [["now", here]];
if (values.base) {
  trees.unshift(["base", new URL(`${values.base.replace(/\/$/, "")}/`, "file://").href]);
}

for (const [name, root] of trees) {
  const packet = await import(`${root}src/rtp/packet.ts`);
  const sender = await import(`${root}src/rtp/rtp_sender.ts`);
  const types = await import(`${root}src/rtp/session_types.ts`);

  const bytes = packet.serializeRtp({
    marker: false,
    payloadType: 8,
    sequenceNumber: 7,
    timestamp: 1120,
    ssrc: 42,
    payload: new Uint8Array(160),
  });
  Deno.bench(
    { name: `parseRtp (172 bytes) [${name}]`, group: "parse", baseline: name === "base" },
    () => {
      packet.parseRtp(bytes);
    },
  );

  const ring = new Uint8Array(1 << 16);
  let at = 0;
  const socket = {
    send: () => Promise.resolve(0),
    sendNow: (b: Uint8Array) => {
      if (at + b.length > ring.length) at = 0;
      ring.set(b, at);
      at += b.length;
      return true;
    },
  };
  const remote = { transport: "udp", hostname: "127.0.0.1", port: 40000 } as const;
  let clock = 0;
  const rtpSender = new sender.RtpSender({
    socket,
    ssrc: 1234,
    count: types.newRtpCounters(),
    clock: () => clock,
    logger: undefined,
    state: {
      payloads: { audio: { payloadType: 8, codec: "g711_alaw", clockRate: 8000 } },
      remote,
      direction: "sendrecv",
      closed: false,
    },
  });
  const payload = new Uint8Array(160).fill(0xd5);
  Deno.bench({
    name: `RtpSender.sendAudio (160 bytes) [${name}]`,
    group: "send",
    baseline: name === "base",
  }, () => {
    clock += 20;
    rtpSender.sendAudio(payload, 160, false);
  });
}
