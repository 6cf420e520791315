/**
 * Browser calls through the server: pairs of headless Chromium pages (the softphone page,
 * fake microphone playing the speech fixture) call each other by `client:` identity through a
 * server process, and the bench reports, per direction, the transit (capture time at the
 * speaking page → arrival at the listening page: browser → relay → browser, same clock), the
 * playout buffer, jitter, lost and late frames; and the server process's CPU per call (its
 * /proc ticks during the calls minus an idle window of the same length with the pages
 * registered and no call).
 *
 * `deno run -A --unstable-net --unstable-kv bench/browser_calls.ts [pairs=1] [seconds=20]`
 *
 * @module
 */
import type { Page } from "playwright-core";
import { spawnServer } from "../tests/_lib/server_process.ts";
import {
  launchChromium,
  openPage,
  type SoftphonePage,
  softphoneUrl,
  waitForPlayed,
  waitForStatus,
} from "../tests/browser/_browser.ts";

const PAIRS = Number(Deno.args[0] ?? 1);
const SECONDS = Number(Deno.args[1] ?? 20);
const CLK_TCK = 100;

function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

async function cpuOver(pid: number, seconds: number): Promise<number> {
  const before = cpuSeconds(pid);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return cpuSeconds(pid) - before;
}

function stats(page: Page) {
  return page.evaluate(() => {
    const s = (globalThis as unknown as SoftphonePage).softphone.mediaStats?.player;
    return s && {
      transitP50Ms: s.transitP50Ms,
      transitP95Ms: s.transitP95Ms,
      playoutDelayMs: s.playoutDelayMs,
      jitterMs: s.jitterMs,
      lost: s.lost,
      late: s.late,
      received: s.received,
      underruns: s.underruns,
    };
  });
}

const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-bench-browser-" });
await using server = await spawnServer({ dataDir });
const url = server.listening.http;
const token = server.token!;
await using browser = await launchChromium();
const pairs: { a: Page; b: Page }[] = [];
for (let i = 0; i < PAIRS; i++) {
  const a = await openPage(
    await browser.newContext(),
    softphoneUrl(url, token, { identity: `a${i}` }),
  );
  const b = await openPage(
    await browser.newContext(),
    softphoneUrl(url, token, { identity: `b${i}` }),
  );
  await a.locator(`body[data-registered=a${i}]`).waitFor();
  await b.locator(`body[data-registered=b${i}]`).waitFor();
  pairs.push({ a, b });
}
const pid = server.child.pid;
const idleCpu = await cpuOver(pid, SECONDS);
for (const [i, { a, b }] of pairs.entries()) {
  await a.getByTestId("to").fill(`client:b${i}`);
  await a.getByTestId("call").click();
  await waitForStatus(b, "ringing");
  await b.getByTestId("answer").click();
  await waitForStatus(a, "in_progress");
}
for (const { a, b } of pairs) {
  await waitForPlayed(a, 1000);
  await waitForPlayed(b, 1000);
}
const callCpu = await cpuOver(pid, SECONDS);
const directions = [];
for (const { a, b } of pairs) {
  directions.push({ to: "callee (b)", ...await stats(b) }, { to: "caller (a)", ...await stats(a) });
}
for (const { a } of pairs) await a.getByTestId("hangup").click();
const median = (xs: number[]) => xs.toSorted((x, y) => x - y)[Math.floor(xs.length / 2)];
const summary = {
  pairs: PAIRS,
  seconds: SECONDS,
  serverCpuIdlePct: (idleCpu / SECONDS) * 100,
  serverCpuCallsPct: (callCpu / SECONDS) * 100,
  serverCpuPerCallPct: ((callCpu - idleCpu) / SECONDS) * 100 / PAIRS,
  transitP50Ms: median(directions.map((d) => d.transitP50Ms ?? NaN)),
  transitP95Ms: median(directions.map((d) => d.transitP95Ms ?? NaN)),
  playoutDelayMs: median(directions.map((d) => d.playoutDelayMs ?? NaN)),
  jitterMs: median(directions.map((d) => d.jitterMs ?? NaN)),
  lost: directions.reduce((n, d) => n + (d.lost ?? 0), 0),
  late: directions.reduce((n, d) => n + (d.late ?? 0), 0),
  received: directions.reduce((n, d) => n + (d.received ?? 0), 0),
};
console.log(JSON.stringify({ summary, directions }, null, 2));
await Deno.remove(dataDir, { recursive: true }).catch(() => {});
