/**
 * A Media Streams bot for `bench/agents_bench.ts`, run as its own process so that its CPU is
 * not counted against the engine: accepts the engine's WebSockets, parses every message (as
 * a bot does) and discards the audio; every 50th media message it answers with one second
 * of µ-law (a reply the engine queues and plays). Prints its port, then, when its stdin
 * closes, one JSON line of counts.
 *
 * @module
 */
let media = 0, connections = 0, replies = 0;
const second = btoa(String.fromCharCode(...new Uint8Array(8000).fill(0x55)));
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
  const { socket, response } = Deno.upgradeWebSocket(req);
  connections++;
  let streamSid = "";
  let seen = 0;
  socket.onmessage = (e) => {
    const m = JSON.parse(String(e.data));
    if (m.event === "start") streamSid = m.streamSid;
    if (m.event !== "media") return;
    media++;
    if (++seen % 50 === 0) {
      replies++;
      socket.send(JSON.stringify({ event: "media", streamSid, media: { payload: second } }));
    }
  };
  return response;
});
console.log(server.addr.port);
for await (const _ of Deno.stdin.readable) { /* runs until the bench closes stdin */ }
console.log(JSON.stringify({ connections, media, replies }));
await server.shutdown();
