/**
 * The far end of the AF_XDP tests and benchmark, run inside the peer namespace:
 * `deno run -A --unstable-net _rtp_peer.ts <host> <port> <count> <window>` sends `count` RTP
 * packets (G.711, 172 bytes, sequence numbers 0..count-1) from an ordinary UDP socket, keeping
 * at most `window` unanswered, and checks every echo byte for byte. Prints one JSON line:
 * {sent, echoed, bad, fromPort, rttP50Us, rttP99Us}. Stops waiting for echoes once none
 * arrives for 3 s (loss then shows as echoed < sent: the caller fails on it).
 *
 * @module
 */
const [host, portText, countText, windowText] = Deno.args;
const port = Number(portText);
const count = Number(countText);
const window = Number(windowText ?? "32");
const socket = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
const to: Deno.NetAddr = { transport: "udp", hostname: host, port };

function packet(seq: number): Uint8Array {
  const p = new Uint8Array(172);
  const v = new DataView(p.buffer);
  p[0] = 0x80;
  p[1] = 0x08;
  v.setUint16(2, seq & 0xffff);
  v.setUint32(4, seq * 160);
  v.setUint32(8, 0x5eed);
  for (let i = 12; i < p.length; i++) p[i] = (seq * 31 + i) & 0xff;
  return p;
}

const sentAt = new Float64Array(count);
const rtts: number[] = [];
let sent = 0;
let echoed = 0;
let bad = 0;
let fromPort = 0;
const seen = new Uint8Array(count);

async function pump(): Promise<void> {
  while (sent < count && sent - echoed < window) {
    sentAt[sent] = performance.now();
    await socket.send(packet(sent), to);
    sent++;
  }
}

await pump();
while (echoed < count) {
  const timer = new Promise<undefined>((r) => setTimeout(r, 3000, undefined));
  const got = await Promise.race([socket.receive(), timer]);
  if (!got) break; // nothing for 3 s: the rest is lost
  const [bytes, from] = got;
  fromPort = (from as Deno.NetAddr).port;
  const seq = bytes.length === 172 ? new DataView(bytes.buffer, bytes.byteOffset).getUint16(2) : -1;
  // Sequence numbers wrap at 65536; the window keeps the live ones unambiguous.
  const index = seq < 0 ? -1 : seq + Math.floor(echoed / 65536) * 65536;
  const ok = index >= 0 && index < count && !seen[index] &&
    packet(index).every((b, i) => bytes[i] === b);
  if (ok) {
    seen[index] = 1;
    rtts.push((performance.now() - sentAt[index]) * 1000);
  } else bad++;
  echoed++;
  await pump();
}
rtts.sort((a, b) => a - b);
const q = (f: number) =>
  Math.round(rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * f))] ?? 0);
console.log(JSON.stringify({ sent, echoed, bad, fromPort, rttP50Us: q(0.5), rttP99Us: q(0.99) }));
socket.close();
Deno.exit(0);
