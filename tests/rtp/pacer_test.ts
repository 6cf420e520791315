import { assertEquals } from "@std/assert";
import { Pacer } from "../../src/rtp/pacer.ts";
import { quietPeriod } from "../_lib/wait.ts";

/** A pacer on a hand-driven clock: `advance(ms)` moves it, then waits for what came due. */
function manualPacer() {
  let now = 1_000;
  const pacer = new Pacer(() => now);
  return {
    pacer,
    set now(value: number) {
      now = value;
    },
    get now() {
      return now;
    },
  };
}

/** Resolves once `pacer` has nothing left. */
async function drained(pacer: Pacer): Promise<void> {
  while (pacer.size > 0) await new Promise((resolve) => setTimeout(resolve, 1));
}

Deno.test("pacer runs callbacks in time order from one timer, and holds no timer when idle", async () => {
  const clock = manualPacer();
  const { pacer } = clock;
  const ran: number[] = [];
  // Scheduled out of order, all already due: they run by time, ties in any order.
  for (const at of [30, 10, 20, 0, 40]) pacer.schedule(clock.now + at - 50, () => ran.push(at));
  assertEquals(pacer.size, 5);
  await drained(pacer);
  assertEquals(ran, [0, 10, 20, 30, 40]);
  // Idle: the test's timer sanitizer fails here if the pacer kept a timer.
});

Deno.test("pacer does not run a callback before its time, and runs those due together", async () => {
  const clock = manualPacer();
  const { pacer } = clock;
  const ran: string[] = [];
  pacer.schedule(clock.now + 100, () => ran.push("late"));
  const { promise, resolve } = Promise.withResolvers<void>();
  pacer.schedule(clock.now, () => {
    ran.push("now");
    resolve();
  });
  await promise;
  assertEquals(ran, ["now"]);
  // The clock reaches the second one: it runs (its timer was armed for real time; the
  // re-armed timer after a wake-up reads the clock again).
  clock.now += 100;
  pacer.schedule(clock.now, () => ran.push("with it"));
  await drained(pacer);
  assertEquals(ran.sort(), ["late", "now", "with it"]);
});

Deno.test("pacer: a cancelled callback never runs; cancelling the last one clears the timer", async () => {
  const clock = manualPacer();
  const { pacer } = clock;
  const ran: string[] = [];
  const a = pacer.schedule(clock.now + 5, () => ran.push("a"));
  const b = pacer.schedule(clock.now + 5, () => ran.push("b"));
  a.cancel();
  a.cancel(); // twice: a no-op
  assertEquals(pacer.size, 1);
  b.cancel();
  assertEquals(pacer.size, 0);
  // Nothing pending: a wrongly armed timer would fire into `ran` within this window.
  await quietPeriod(10);
  assertEquals(ran, []);
});

Deno.test("pacer: a callback that reschedules itself keeps a steady cadence until cancelled", async () => {
  const pacer = new Pacer();
  const times: number[] = [];
  let entry = pacer.schedule(performance.now(), function tick() {
    times.push(performance.now());
    if (times.length < 5) entry = pacer.schedule(times[0] + 10 * times.length, tick);
  });
  await drained(pacer);
  entry.cancel(); // after it ran: a no-op
  assertEquals(times.length, 5);
  // Never early (the slack is 1 ms).
  times.forEach((t, i) => assertEquals(t >= times[0] + 10 * i - 1, true, `tick ${i} early`));
});

Deno.test("pacer: a callback scheduling a later one during a wake-up does not delay an earlier one", async () => {
  const clock = manualPacer();
  const { pacer } = clock;
  const start = clock.now;
  const ran: [string, number][] = [];
  pacer.schedule(start, () => {
    ran.push(["first", clock.now - start]);
    // The heap still holds "soon" (+5): the timer must be armed for it, not for this one.
    pacer.schedule(start + 50, () => ran.push(["far", clock.now - start]));
  });
  pacer.schedule(start + 5, () => ran.push(["soon", clock.now - start]));
  while (pacer.size > 0) {
    clock.now += 1;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assertEquals(ran.map(([name]) => name), ["first", "soon", "far"]);
  const soonAt = ran[1][1];
  assertEquals(soonAt >= 4 && soonAt < 40, true, `"soon" ran at +${soonAt} ms`);
});

Deno.test("pacer: a callback gets the wake-up's clock reading, and an entry that ran is reused by its own reschedule, never one still waiting", async () => {
  const clock = manualPacer();
  const { pacer } = clock;
  const seen: number[] = [];
  const done = Promise.withResolvers<void>();
  let entry = pacer.schedule(clock.now, function tick(now) {
    seen.push(now);
    const again = pacer.schedule(now + 10, tick, entry);
    // The entry that just ran is filled in again: the same object, not a new one.
    assertEquals(again, entry);
    entry = again;
    if (seen.length === 3) {
      entry.cancel();
      done.resolve();
    } else clock.now = now + 10;
  });
  await done.promise;
  assertEquals(seen, [1_000, 1_010, 1_020]);
  assertEquals(pacer.size, 0);
  // A waiting entry is not taken over: the second schedule gets an entry of its own.
  const ran: string[] = [];
  const waiting = pacer.schedule(clock.now, () => ran.push("first"));
  const other = pacer.schedule(clock.now, () => ran.push("second"), waiting);
  assertEquals(other === waiting, false);
  // Nor a cancelled one still in the heap: cancelling it does not cancel its "replacement".
  waiting.cancel();
  const third = pacer.schedule(clock.now, () => ran.push("third"), waiting);
  assertEquals(third === waiting, false);
  await drained(pacer);
  assertEquals(ran.sort(), ["second", "third"]);
});
