import { assert, assertEquals } from "@std/assert";
import { startServer } from "../calls/_server.ts";

/**
 * The SDK must run in browsers: bundle it for the browser platform with `deno bundle`, check
 * the bundle reaches for no Deno API, then drive a real server with the bundled code only.
 */
Deno.test("the SDK bundles for browsers without Deno APIs and the bundle drives a real server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-sdk-bundle-" });
  const out = `${dir}/sdk.js`;
  const bundle = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform",
      "browser",
      new URL("../../src/sdk/mod.ts", import.meta.url).pathname,
      "-o",
      out,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(bundle.success, new TextDecoder().decode(bundle.stderr));
  const code = await Deno.readTextFile(out);
  assertEquals(code.match(/\bDeno\./g), null, "the browser bundle references no Deno API");

  await using fx = await startServer();
  const sdk = await import(`file://${out}`);
  const voice = new sdk.Voice({ baseUrl: fx.url, token: fx.token });
  const call = await voice.calls.originate({ from: "+14155550100", to: "client:nobody" });
  assert(typeof call.sid === "string");
  const fetched = await voice.calls.get(call.sid);
  assertEquals(fetched.sid, call.sid);
  const missing = await voice.calls.get("CAdoesnotexist").catch((e: Error) => e);
  assertEquals(missing instanceof sdk.VoiceApiError, true, "typed API error from the bundle");
  assertEquals(missing.status, 404);
  await Deno.remove(dir, { recursive: true });
});
