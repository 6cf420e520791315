/**
 * Browser calls over an impaired link: two softphone pages call each other through the
 * server, their WebTransport/QUIC going through a UDP impairment proxy that delays each
 * datagram by 20 ms ± 20 ms (uniform) and drops 1 %, each way. (The kernel here has no netem
 * qdisc, so the impairment is done in user space, per datagram, as netem would.) Reports what
 * each page's player saw after `seconds`: lost and late frames, jitter, transit percentiles,
 * playout delay.
 *
 * `deno run -A --unstable-net --unstable-kv bench/browser_impaired.ts [seconds=20] [delayMs=20] [jitterMs=20] [lossPct=1]`
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

const SECONDS = Number(Deno.args[0] ?? 20);
const DELAY_MS = Number(Deno.args[1] ?? 20);
const JITTER_MS = Number(Deno.args[2] ?? 20);
const LOSS = Number(Deno.args[3] ?? 1) / 100;

/** A UDP proxy to `target` that delays and drops datagrams both ways. */
function impairmentProxy(target: Deno.NetAddr) {
  const front = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const backs = new Map<string, Deno.DatagramConn>();
  let forwarded = 0, dropped = 0;
  const impair = (send: () => void) => {
    if (Math.random() < LOSS) return void dropped++;
    forwarded++;
    const delay = Math.max(0, DELAY_MS + (Math.random() * 2 - 1) * JITTER_MS);
    setTimeout(send, delay);
  };
  (async () => {
    for await (const [data, from] of front) {
      const peer = from as Deno.NetAddr;
      const key = `${peer.hostname}:${peer.port}`;
      let back = backs.get(key);
      if (!back) {
        const conn = back = Deno.listenDatagram({
          hostname: "127.0.0.1",
          port: 0,
          transport: "udp",
        });
        backs.set(key, conn);
        (async () => {
          for await (const [reply] of conn) {
            impair(() => front.send(reply, peer).catch(() => {}));
          }
        })().catch(() => {});
      }
      const conn = back;
      impair(() => conn.send(data, target).catch(() => {}));
    }
  })().catch(() => {});
  return {
    port: (front.addr as Deno.NetAddr).port,
    counts: () => ({ forwarded, dropped }),
    close() {
      front.close();
      for (const b of backs.values()) b.close();
    },
  };
}

const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-bench-impaired-" });
await using server = await spawnServer({ dataDir });
const url = server.listening.http;
const token = server.token!;
const moq = new URL(server.listening.moq as string);
const proxy = impairmentProxy({
  transport: "udp",
  hostname: "127.0.0.1",
  port: Number(moq.port),
});
const relayUrl = `https://127.0.0.1:${proxy.port}/moq`;
await using browser = await launchChromium();
const page = async (identity: string) => {
  const p = await openPage(
    await browser.newContext(),
    softphoneUrl(url, token, { identity, relayUrl }),
  );
  await p.locator(`body[data-registered=${identity}]`).waitFor();
  return p;
};
const a = await page("a");
const b = await page("b");
await a.getByTestId("to").fill("client:b");
await a.getByTestId("call").click();
await waitForStatus(b, "ringing");
await b.getByTestId("answer").click();
await waitForStatus(a, "in_progress");
await waitForPlayed(a, SECONDS * 1000, SECONDS * 4000);
await waitForPlayed(b, SECONDS * 1000, SECONDS * 4000);
const stats = (p: Page) =>
  p.evaluate(() => (globalThis as unknown as SoftphonePage).softphone.mediaStats?.player);
console.log(JSON.stringify(
  {
    impairment: { delayMs: DELAY_MS, jitterMs: JITTER_MS, lossPct: LOSS * 100 },
    proxy: proxy.counts(),
    toCallee: await stats(b),
    toCaller: await stats(a),
  },
  null,
  2,
));
await a.getByTestId("hangup").click();
await waitForStatus(a, "completed");
proxy.close();
await Deno.remove(dataDir, { recursive: true }).catch(() => {});
