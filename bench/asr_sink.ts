/**
 * A recognizer sink for `bench/asr_tap_bench.ts`, run as its own process so that its CPU is
 * not counted against the tap: accepts Deepgram-style WebSockets, discards the audio, and
 * for G.711 payloads stamped by the bench (the first 8 bytes: the frame's write time, µs
 * since the epoch, float64) records the latency to arrival. Prints its port, then, when its
 * stdin closes, one JSON line of stats.
 *
 * @module
 */
const latencies: number[] = [];
let messages = 0, bytes = 0, connections = 0, keepAlives = 0;
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.binaryType = "arraybuffer";
  connections++;
  const stamped = new URL(req.url).searchParams.get("encoding") === "mulaw";
  socket.onmessage = (e) => {
    if (typeof e.data === "string") {
      if (e.data.includes("KeepAlive")) keepAlives++;
      if (e.data.includes("CloseStream")) socket.close(1000);
      return;
    }
    const data = new Uint8Array(e.data as ArrayBuffer);
    messages++;
    bytes += data.length;
    if (stamped && data.length >= 8 && latencies.length < 1_000_000) {
      const sentAt = new DataView(data.buffer, data.byteOffset, 8).getFloat64(0, true);
      const now = (performance.timeOrigin + performance.now()) * 1000;
      if (sentAt > 1e15 && sentAt < now + 1e6) latencies.push((now - sentAt) / 1000);
    }
  };
  socket.onerror = () => {};
  return response;
});
console.log(server.addr.port);
for await (const _ of Deno.stdin.readable) { /* until the bench closes stdin */ }
latencies.sort((a, b) => a - b);
const q = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(JSON.stringify({
  connections,
  messages,
  bytes,
  keepAlives,
  latencyMs: latencies.length ? { p50: q(0.5), p95: q(0.95), p99: q(0.99) } : undefined,
}));
await server.shutdown();
