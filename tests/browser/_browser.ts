/**
 * Chromium for the browser tests: Debian's `/usr/bin/chromium` driven by `playwright-core`,
 * headless, with a fake microphone playing a fixture WAV, plus an echo client (an SDK client
 * registered as `client:<identity>` that loops the call's downlink back on its uplink,
 * object by object, keeping each frame's capture time so the page can measure the round
 * trip).
 *
 * @module
 */
import { type Browser, chromium, type Page } from "playwright-core";
import { MoqClient } from "../../src/relay/client.ts";
import { TrackError } from "../../src/relay/model/mod.ts";
import { readSse, Voice } from "../../src/sdk/mod.ts";
import type { IncomingEvent } from "../../src/calls/events.ts";
import type { ServerFixture } from "../calls/_server.ts";
import { fixturePath } from "../_lib/fixtures.ts";
import type { Softphone } from "../../src/browser/mod.ts";
import { pathExists, requireOrSkip } from "../_lib/env.ts";

/** What the softphone page puts on `globalThis` for tests (read inside `page.evaluate`). */
export interface SoftphonePage {
  readonly softphone: Softphone;
  readonly softphoneLog: string[];
}

/** The Chromium the tests drive. */
export const CHROMIUM = "/usr/bin/chromium";

/** True when Chromium is installed (else the test skips loudly, or fails under CI). */
export function haveChromium(): boolean {
  return requireOrSkip(
    pathExists(CHROMIUM),
    "chromium is not installed (scripts/setup_test_env.ts installs it as root)",
  );
}

/** Launches headless Chromium whose microphone plays `wav` (a fixture name). */
export async function launchChromium(
  { wav = "speech-48k.wav" }: { wav?: string } = {},
): Promise<Browser & AsyncDisposable> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${fixturePath(wav)}`,
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
  return Object.assign(browser, {
    async [Symbol.asyncDispose]() {
      await browser.close();
    },
  });
}

/** Opens `path` on the server in a new page, collecting console errors for diagnostics. */
export async function openPage(
  browser: Pick<Browser, "newPage">,
  url: string,
): Promise<Page & { logs: string[] }> {
  const page = await browser.newPage();
  const logs: string[] = [];
  page.on("console", (message) => logs.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => logs.push(`pageerror: ${error.message}`));
  await page.goto(url);
  return Object.assign(page, { logs });
}

/** The softphone page's status text reaching `status`. */
export async function waitForStatus(page: Page, status: string, timeout = 30_000): Promise<void> {
  await page.locator(`[data-testid="status"]`).filter({ hasText: new RegExp(`^${status}$`) })
    .waitFor({ timeout });
}

/** An echo registered as `client:<identity>`: answers each call and loops its audio back. */
export async function startEcho(fx: ServerFixture, identity = "echo") {
  const moq = await MoqClient.connect({
    hostname: "127.0.0.1",
    port: fx.server.moqPort,
    caCerts: [fx.server.certificate.certPem],
    token: fx.token,
  });
  const voice = new Voice({ baseUrl: fx.url, token: fx.token });
  const abort = new AbortController();
  const answered: string[] = [];
  let echoed = 0;
  await voice.clients.add(identity);
  // Listening before returning: a call placed right after this resolves must ring us.
  const incoming = await fx.fetch(`/v1/clients/${identity}/incoming`, { signal: abort.signal });
  if (!incoming.ok || !incoming.body) throw new Error(`Cannot listen as ${identity}`);
  const serve = async (sid: string) => {
    const ns = ["voice", sid];
    const uplink = await moq.publish({ namespace: ns, name: "uplink", capability: "voice/opus" });
    answered.push(sid);
    for (;;) {
      let downlink;
      try {
        downlink = await moq.subscribe(ns, "downlink");
      } catch (error) {
        if (!(error instanceof TrackError) || abort.signal.aborted || uplink.done) return;
        // Not published (yet, or again after a reconnect): ask again while the call lasts.
        const call = await voice.calls.get(sid).catch(() => undefined);
        if (!call || ["completed", "failed", "no_answer"].includes(call.status)) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      for (let group; (group = await downlink.nextGroup());) {
        const out = uplink.appendGroup();
        (async () => {
          for (let object; (object = await group.readObject());) {
            out.write(object); // payload, capture timestamp and extensions as they came
            echoed++;
          }
          out.close();
        })().catch(() => out.close());
      }
      // The downlink ended: the call is over, or the page lost its connection and publishes
      // it again from a new one (a reconnect): follow it while the call lasts.
      if (abort.signal.aborted || uplink.done) return;
    }
  };
  (async () => {
    for await (const message of readSse(incoming.body!)) {
      const event = JSON.parse(message.data) as IncomingEvent;
      if (event.type === "ring") serve(event.call.sid).catch(() => {});
    }
  })().catch((error) => {
    if (!abort.signal.aborted) console.error("echo stopped listening", error);
  });
  return {
    answered,
    get echoed() {
      return echoed;
    },
    async [Symbol.asyncDispose]() {
      abort.abort();
      moq.close();
      await moq.closed;
    },
  };
}

/** The softphone page's URL with `token` and more query parameters. */
export function softphoneUrl(
  base: string,
  token: string,
  params: Record<string, string> = {},
): string {
  const query = new URLSearchParams({ token, ...params });
  return `${base}/softphone?${query}`;
}

/** Waits until the page's message (its words for the user) matches `pattern`; returns it. */
export async function waitForMessage(
  page: Page,
  pattern: RegExp,
  timeout = 30_000,
): Promise<string> {
  const message = page.getByTestId("message").filter({ hasText: pattern });
  try {
    await message.waitFor({ timeout });
  } catch (error) {
    const said = await page.evaluate(() =>
      (globalThis as unknown as Partial<SoftphonePage>).softphoneLog ?? []
    );
    throw new Error(`The page never said ${pattern}; it said:\n${said.join("\n")}`, {
      cause: error,
    });
  }
  return await message.innerText();
}

/** Waits until the page has played `ms` of the far end's audio. */
export async function waitForPlayed(page: Page, ms: number, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    (ms) =>
      ((globalThis as unknown as SoftphonePage).softphone.mediaStats?.player?.playedMs ?? 0) > ms,
    ms,
    { timeout },
  );
}

/** What the page played (with `?capture=1`), out of the page. */
export async function takePlayed(
  page: Page,
): Promise<{ samples: Float32Array; rate: number; capability: string | undefined }> {
  const out = await page.evaluate(() => {
    const phone = (globalThis as unknown as SoftphonePage).softphone;
    const player = phone.media!.player!;
    const { samples } = player.takePlayed();
    const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return { b64: btoa(s), rate: player.sampleRate };
  });
  const bytes = Uint8Array.from(atob(out.b64), (c) => c.charCodeAt(0));
  return { samples: new Float32Array(bytes.buffer), rate: out.rate, capability: undefined };
}

/** A VoiceServer in process with `config` (a config file's content) on free ports. */
export async function startServerWithConfig(config: Record<string, unknown>) {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-browser-" });
  const path = `${dataDir}/config.json`;
  await Deno.writeTextFile(path, JSON.stringify(config));
  const { loadConfig } = await import("../../src/server/config.ts");
  const { VoiceServer } = await import("../../src/server/server.ts");
  const { createLogger } = await import("../../src/log/mod.ts");
  const loaded = await loadConfig(
    ["--http-port", "0", "--moq-port", "0", "--data-dir", dataDir, "--config", path],
    {},
  );
  const logs: string[] = [];
  const server = await VoiceServer.start(
    loaded,
    createLogger({ level: "info", json: true, sink: (line) => logs.push(line) }),
  );
  return {
    server,
    url: server.httpUrl,
    token: server.devToken!,
    logs,
    async [Symbol.asyncDispose]() {
      await server.close(100);
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Runs `body`; when it fails, prints what each softphone page said, logged and counted, then
 * rethrows. (A failed `t.step` does not throw to its caller, so a catch around the steps
 * never sees it: wrap the step's body.)
 */
export async function explained<T>(
  pages: Record<string, Page & { logs: string[] }>,
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (error) {
    for (const [name, page] of Object.entries(pages)) {
      const seen = await page.evaluate(() => {
        const g = globalThis as unknown as Partial<SoftphonePage>;
        const phone = g.softphone;
        return JSON.stringify({
          state: phone?.state.state,
          call: phone && "call" in phone.state ? phone.state.call : undefined,
          media: phone?.mediaStats,
          said: g.softphoneLog,
        });
      }).catch((why) => `(cannot read the page: ${why})`);
      console.error(`${name}: ${seen}\n${page.logs.join("\n")}`);
    }
    throw error;
  }
}

/** Softphone pages registered as `identities`, each in its own context (own microphone). */
export async function openPhones(
  browser: Browser,
  base: string,
  token: string,
  identities: readonly string[],
): Promise<(Page & { logs: string[] })[]> {
  const pages = [];
  for (const identity of identities) {
    const page = await openPage(
      await browser.newContext(),
      softphoneUrl(base, token, { identity }),
    );
    await page.locator(`body[data-registered=${identity}]`).waitFor();
    pages.push(page);
  }
  return pages;
}

/** `caller` dials `client:<identity>`; `callee`'s page answers once rung; both in progress. */
export async function dialAndAnswer(caller: Page, callee: Page, identity: string): Promise<void> {
  await caller.getByTestId("to").fill(`client:${identity}`);
  await caller.getByTestId("call").click();
  await waitForStatus(callee, "ringing");
  await callee.getByTestId("answer").click();
  await waitForStatus(caller, "in_progress");
}
