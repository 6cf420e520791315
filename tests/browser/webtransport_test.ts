import { assert, assertEquals } from "@std/assert";
import { startServer } from "../calls/_server.ts";
import { MoqClient } from "../../src/relay/client.ts";
import { TrackError } from "../../src/relay/model/mod.ts";
import { haveChromium, launchChromium, openPage } from "./_browser.ts";

/** The relay's log line for the end of the MoQT session from `remote`, once it is written. */
function sessionEnd(logs: string[], since: number): Record<string, unknown> | undefined {
  for (const line of logs.slice(since)) {
    const entry = JSON.parse(line);
    if (entry.msg === "MoQT session closed" && entry.transport === "webtransport") return entry;
  }
  return undefined;
}

Deno.test("a page closing its relay connection ends its tracks at the relay at once (the end of its control stream), and the same track can be published again; leaving the page does the same", async () => {
  if (!haveChromium()) return;
  await using fx = await startServer();
  await using browser = await launchChromium();
  const page = await openPage(browser, `${fx.url}/softphone?token=${encodeURIComponent(fx.token)}`);
  const moq = await MoqClient.connect({
    hostname: "127.0.0.1",
    port: fx.server.moqPort,
    caCerts: [fx.server.certificate.certPem],
    token: fx.token,
  });
  try {
    const publishInPage = () =>
      page.evaluate(async () => {
        const sdk = await import("/sdk/browser.js" as string);
        const cert = await (await fetch("/v1/relay/certificate")).json();
        const token = new URLSearchParams(location.search).get("token");
        const conn = await sdk.BrowserMoq.connect({
          url: cert.url,
          certificateHash: cert.sha256Base64,
          token,
        });
        const track = await conn.publish({
          namespace: ["voice", "wt-close"],
          name: "uplink",
          capability: "voice/opus",
        });
        let id = 0;
        const timer = setInterval(() => {
          const group = track.appendGroup();
          group.write({ id: 0, payload: new Uint8Array([id++ & 0xff]) });
          group.close();
        }, 20);
        Object.assign(globalThis, { conn, timer });
      });
    const subscribe = async () => {
      for (;;) {
        try {
          return await moq.subscribe(["voice", "wt-close"], "uplink");
        } catch (error) {
          if (!(error instanceof TrackError)) throw error; // not published yet: ask again
        }
      }
    };

    await publishInPage();
    const first = await subscribe();
    assert(await first.nextGroup(), "the page's track reaches the relay");
    const logsBefore = fx.logs.length;
    await page.evaluate(() => {
      const g = globalThis as unknown as { conn: { close(): void }; timer: number };
      clearInterval(g.timer);
      g.conn.close();
    });
    // The relay ends the page's track: the subscription runs out.
    while (await first.nextGroup());
    const end = sessionEnd(fx.logs, logsBefore);
    console.log(`relay's session end: ${JSON.stringify(end)}`);
    assert(end, "the relay logged the end of the page's session");
    assert(
      end.reason !== "timed out",
      "the relay saw the session end, not the QUIC idle timeout",
    );
    assertEquals(end.kind, "no_error", "a page closing its session is a clean close");

    // The same track, from a new connection of the page, is accepted and flows.
    await publishInPage();
    const second = await subscribe();
    assert(await second.nextGroup(), "the track published again flows");

    // Leaving the page (no close() by the app) ends the connection the same way.
    const logsBeforeLeaving = fx.logs.length;
    await page.goto("about:blank");
    while (await second.nextGroup());
    const left = sessionEnd(fx.logs, logsBeforeLeaving);
    console.log(`relay's session end after leaving the page: ${JSON.stringify(left)}`);
    assert(left && left.reason !== "timed out", "the relay saw the page's session end");
    assertEquals(left.kind, "no_error", "leaving the page is a clean close");
  } catch (error) {
    console.error(page.logs.join("\n"));
    throw error;
  } finally {
    moq.close();
  }
});
