import { assertEquals, assertMatch } from "@std/assert";
import { DEV_ISSUER, signToken } from "../../src/auth/mod.ts";
import { startServer } from "../calls/_server.ts";
import { spawnServer } from "../_lib/server_process.ts";
import {
  haveChromium,
  launchChromium,
  openPage,
  softphoneUrl,
  startEcho,
  waitForMessage,
  waitForPlayed,
  waitForStatus,
} from "./_browser.ts";

/** A token from the server's development secret with only `scopes`. */
async function devToken(dataDir: string, scopes: string[]): Promise<string> {
  const secret = (await Deno.readTextFile(`${dataDir}/auth/dev-secret`)).trim();
  return await signToken({
    hs256Secret: secret,
    scopes: scopes as Parameters<typeof signToken>[0]["scopes"],
    issuer: DEV_ISSUER,
    subject: "no-media",
  });
}

Deno.test("a token without media scopes: the page says the relay refused it and hangs the call up instead of staying silent", async () => {
  if (!haveChromium()) return;
  await using fx = await startServer();
  await using echo = await startEcho(fx);
  const token = await devToken(fx.dataDir, ["calls:read", "calls:write"]);
  await using browser = await launchChromium();
  const page = await openPage(browser, softphoneUrl(fx.url, token));
  await page.getByTestId("to").fill("client:echo");
  await page.getByTestId("call").click();
  const said = await waitForMessage(page, /No audio on this call/);
  console.log(`page said: ${said}`);
  assertMatch(
    said,
    /media:(publish|subscribe)|insufficient scope|not allowed|unauthori[sz]ed|refused/i,
  );
  // Not left hanging: the call ends, and the phone is usable again.
  await waitForStatus(page, "completed");
  assertEquals(await page.locator("body").getAttribute("data-phone"), "idle");
  assertEquals(echo.echoed, 0);
});

Deno.test("a wrong certificate hash: the page says the WebTransport handshake failed and places no call", async () => {
  if (!haveChromium()) return;
  await using fx = await startServer();
  await using browser = await launchChromium();
  const wrong = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
  const page = await openPage(
    browser,
    softphoneUrl(fx.url, fx.token, { certificateHash: wrong }),
  );
  await page.getByTestId("to").fill("client:nobody");
  await page.getByTestId("call").click();
  const said = await waitForMessage(page, /Cannot connect to the relay/);
  assertMatch(said, /handshake failed.*certificate/);
  assertEquals(await page.getByTestId("status").innerText(), "idle");
  const calls = await (await fx.fetch("/v1/calls")).json();
  assertEquals(calls.calls.length, 0, "no call was placed");
});

Deno.test("the server restarting mid-call: both pages say what happened in words, reconnect when it is back, and the call resumes", async () => {
  if (!haveChromium()) return;
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-browser-restart-" });
  const configPath = `${dataDir}/config.json`;
  // Ports the server binds itself (0: a port probed free here could be taken by a test beside
  // this one before the server binds it); it comes back on the ones it got.
  await Deno.writeTextFile(configPath, JSON.stringify({ httpPort: 0, moqPort: 0 }));
  let server = await spawnServer({ dataDir, configPath });
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      httpPort: Number(new URL(server.listening.http).port),
      moqPort: Number(new URL(server.listening.moq).port),
    }),
  );
  try {
    const url = server.listening.http;
    const token = server.token!;
    await using browser = await launchChromium();
    const alice = await openPage(
      await browser.newContext(),
      softphoneUrl(url, token, { identity: "alice" }),
    );
    const bob = await openPage(
      await browser.newContext(),
      softphoneUrl(url, token, { identity: "bob" }),
    );
    await alice.locator("body[data-registered=alice]").waitFor();
    await bob.locator("body[data-registered=bob]").waitFor();
    await alice.getByTestId("to").fill("client:bob");
    await alice.getByTestId("call").click();
    await waitForStatus(bob, "ringing");
    await bob.getByTestId("answer").click();
    await waitForStatus(alice, "in_progress");
    await waitForPlayed(alice, 500);

    // Stop the server (SIGTERM: GOAWAY to the pages), and say so in words while it is down.
    server.child.kill("SIGTERM");
    await server.child.status;
    await server[Symbol.asyncDispose]();
    for (const page of [alice, bob]) {
      const said = await waitForMessage(page, /interrupted|Lost the call|Cannot (reach|read)/);
      console.log(`while down: ${said}`);
    }
    assertEquals(await alice.getByTestId("status").innerText(), "in_progress");

    // Back on the same ports and data: the pages reconnect and re-attach within the
    // reconciliation grace (long here: the machine is shared), so the call resumes (its
    // legs are back), audio both ways.
    server = await spawnServer({
      dataDir,
      configPath,
      env: { CLUTCHCALL_RECONCILE_GRACE_MS: "60000" },
    });
    for (const page of [alice, bob]) {
      await waitForMessage(page, /Audio reconnected/, 60_000);
      await waitForPlayed(page, 500, 60_000);
      assertEquals(await page.getByTestId("status").innerText(), "in_progress");
    }
    await bob.getByTestId("hangup").click();
    await waitForStatus(bob, "completed");
    await waitForStatus(alice, "completed");
  } finally {
    await server[Symbol.asyncDispose]();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
