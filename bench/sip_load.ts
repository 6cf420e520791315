/**
 * SIP gateway load: sipp places calls (`uac_pcap`: G.711 A-law RTP for ~9 s each) at a rate
 * into a gateway on the pure-Deno UDP + RTP path, in this process. Prints calls placed,
 * failed, the gateway process's CPU time per call and RSS before/after.
 *
 *   deno run -A bench/sip_load.ts --rate 10 --limit 50 --seconds 10
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { rtpMedia } from "../src/sip/rtp_media.ts";
import { scenario, sipp, startGateway } from "../tests/sip/_harness.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rate: { type: "string", default: "10" },
    limit: { type: "string", default: "50" },
    seconds: { type: "string", default: "10" },
  },
});
const rate = Number(values.rate);
const limit = Number(values.limit);
const seconds = Number(values.seconds);
const total = rate * seconds;

await using fx = await startGateway({
  media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1", portRange: [30000, 39999] }),
  sip: { invitesPerSecond: 10_000, inbound: [{ match: "*", action: { plugin: "none" } }] },
});
const rss0 = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const result = await sipp([
  "-sf",
  scenario("uac_pcap.xml"),
  "-s",
  "+14155550199",
  "-i",
  "127.0.0.1",
  "-p",
  "0",
  "-mp",
  "0",
  "-r",
  String(rate),
  "-l",
  String(limit),
  "-m",
  String(total),
  `127.0.0.1:${fx.port}`,
], (seconds + 60) * 1000);
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await new Promise((r) => setTimeout(r, 2000));
const rss1 = process.memoryUsage().rss;
const summary = /Successful call\s*\|[^|]*\|\s*(\d+)[\s\S]*?Failed call\s*\|[^|]*\|\s*(\d+)/.exec(
  result.stdout,
);
const completed =
  fx.events.filter((e) => e.type === "status" && e.call.status === "completed").length;
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(JSON.stringify({
  rate,
  limit,
  calls: total,
  sippSuccessful: Number(summary?.[1] ?? NaN),
  sippFailed: Number(summary?.[2] ?? NaN),
  sippExit: result.code,
  completedInGateway: completed,
  activeLegsAfter: fx.gateway.activeLegs,
  wallSeconds: +wall.toFixed(1),
  cpuSeconds: +(cpuMs / 1000).toFixed(2),
  cpuMsPerCall: +(cpuMs / total).toFixed(1),
  cpuShareOfOneCore: +(cpuMs / 1000 / wall).toFixed(2),
  rssMiB: [+(rss0 / 2 ** 20).toFixed(0), +(rss1 / 2 ** 20).toFixed(0)],
}));
