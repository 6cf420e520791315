/**
 * The data dir on a small tmpfs that fills up (root only: `mount -t tmpfs`): while the disk is
 * full, mutating calls get 503 with Retry-After and no driver message, a live call whose leg
 * ends is not left `in_progress` (the change is retried and lands once space is back), and
 * nothing temporary is left behind. Real server, real HTTP, real MoQT leg, real filesystem.
 */
import { assert, assertEquals } from "@std/assert";
import { startServer } from "./_server.ts";

const root = Deno.uid() === 0;
if (!root) {
  const message = "disk_full_test needs root to mount a tmpfs";
  if (Deno.env.get("CI") === "true") throw new Error(message);
  console.warn(`SKIPPED: ${message}`);
}

/** Fills the filesystem holding `dir` to the last byte; returns the filler's path. */
async function fill(dir: string): Promise<string> {
  const path = `${dir}/filler`;
  using file = await Deno.open(path, { write: true, create: true });
  for (const size of [1 << 20, 1 << 12, 1]) {
    const chunk = new Uint8Array(size);
    try {
      for (;;) await file.write(chunk);
    } catch (error) {
      if (!(error instanceof Error && /No space left|os error 28/i.test(error.message))) {
        throw error;
      }
    }
  }
  return path;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else yield path;
  }
}

Deno.test({
  name: "a full disk: 503 with Retry-After, a live call's end is persisted once space is back",
  ignore: !root,
  async fn() {
    const mount = await Deno.makeTempDir({ prefix: "clutchcall-diskfull-" });
    const run = (...args: string[]) => new Deno.Command(args[0], { args: args.slice(1) }).output();
    const mounted = await run("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount);
    assert(mounted.success, new TextDecoder().decode(mounted.stderr));
    try {
      await using fx = await startServer({}, mount);
      const voice = await fx.voice({ media: true });
      await voice.clients.add("erin");
      const call = await voice.calls.originate({ from: "+14155550100", to: "client:erin" });
      const events = voice.calls.events(call.sid)[Symbol.asyncIterator]();
      const until = async (status: string) => {
        for (;;) {
          const { value, done } = await events.next();
          if (done) throw new Error(`Events ended before ${status}`);
          if (value.type === "status" && value.call.status === status) return value.call;
        }
      };
      await until("ringing");
      const leg = await voice.bridge!.attachCaller({ sid: call.sid, codec: "g711_ulaw" });
      await until("in_progress");

      const filler = await fill(mount);
      const refused = await fx.fetch("/v1/calls", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ from: "+14155550100", to: "client:erin" }),
      });
      assertEquals(refused.status, 503);
      assert(Number(refused.headers.get("retry-after")) > 0, "Retry-After");
      const problem = await refused.json();
      assertEquals(problem.type, "https://clutchcall.dev/problems/service-unavailable");
      assert(!/disk|full|sqlite|\//i.test(problem.detail), `no driver message: ${problem.detail}`);

      // The caller hangs up while the disk is full: the change waits for the store. Wait for
      // the server's log of the refused write (its signal), then look.
      const refusals = () => fx.logs.filter((l) => l.includes("Call store write failed")).length;
      const before = refusals();
      await leg[Symbol.asyncDispose]();
      const ended = until("completed");
      for (const hang = Date.now() + 30_000; refusals() === before;) {
        if (Date.now() > hang) throw new Error("The server never logged the refused write");
        await new Promise((r) => setTimeout(r, 10));
      }
      assertEquals((await voice.calls.get(call.sid)).status, "in_progress", "not persisted yet");
      await Deno.remove(filler);
      const completed = await ended;
      assertEquals([completed.status, completed.endReason], ["completed", "caller_hangup"]);
      assertEquals((await voice.calls.get(call.sid)).status, "completed");

      const accepted = await voice.calls.originate({ from: "+14155550100", to: "client:erin" });
      assertEquals(accepted.status, "dialing");
      const leftovers: string[] = [];
      for await (const path of walk(mount)) if (/\.tmp$|tmp-/.test(path)) leftovers.push(path);
      assertEquals(leftovers, [], "no temporary files left behind");
    } finally {
      await run("umount", "-l", mount);
      await Deno.remove(mount, { recursive: true });
    }
  },
});
