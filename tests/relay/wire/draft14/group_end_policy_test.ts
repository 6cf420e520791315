import { assertEquals } from "@std/assert";
import {
  type GroupEndClock,
  GroupEndPolicy,
} from "../../../../src/relay/wire/draft14/group_end_policy.ts";

/** A clock that moves only when told: timers fire in deadline order as time advances. */
class ManualClock implements GroupEndClock {
  #now = 0;
  #next = 1;
  readonly timers = new Map<number, { at: number; callback: () => void }>();
  now(): number {
    return this.#now;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.timers.set(id, { at: this.#now + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) =>
        t.at <= until
      ).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].callback();
    }
    this.#now = until;
  }
}

Deno.test("a peer that has not sent FIN has older groups superseded after the grace", () => {
  const clock = new ManualClock();
  const policy = new GroupEndPolicy({ graceMs: 50, clock });
  const ended: number[] = [];
  using track = policy.tracker((below) => ended.push(below));
  assertEquals(policy.state, "learning");
  track.groupStarted(0);
  track.groupStarted(1);
  clock.advance(49);
  assertEquals(ended, [], "still within the grace");
  clock.advance(1);
  assertEquals(ended, [0, 1]);
  assertEquals(track.pending, 0);
});

Deno.test("each newer group gets its own deadline, with one timer per track at a time", () => {
  const clock = new ManualClock();
  const policy = new GroupEndPolicy({ graceMs: 50, clock });
  const ended: number[] = [];
  using track = policy.tracker((below) => ended.push(below));
  track.groupStarted(5);
  clock.advance(20);
  track.groupStarted(6);
  track.groupStarted(6); // a repeated or late header schedules nothing new
  track.groupStarted(4);
  assertEquals([track.pending, clock.timers.size], [2, 1]);
  clock.advance(30);
  assertEquals(ended, [5], "group 5's deadline: groups below 5 end");
  clock.advance(19);
  assertEquals(ended, [5]);
  clock.advance(1);
  assertEquals(ended, [5, 6], "group 6 started 20 ms later, so its deadline is 20 ms later");
  assertEquals(clock.timers.size, 0);
});

Deno.test("one FIN from the peer ends supersession on every track of that peer", () => {
  const clock = new ManualClock();
  const policy = new GroupEndPolicy({ graceMs: 50, clock });
  const ended: string[] = [];
  using a = policy.tracker((below) => ended.push(`a<${below}`));
  using b = policy.tracker((below) => ended.push(`b<${below}`));
  a.groupStarted(1);
  b.groupStarted(7);
  policy.finSeen();
  assertEquals(policy.state, "fin");
  assertEquals(clock.timers.size, 0, "pending supersessions are cancelled");
  a.groupStarted(2);
  clock.advance(1000);
  assertEquals(ended, []);
  policy.finSeen(); // again: a no-op
  assertEquals(policy.state, "fin");
});

Deno.test("another peer keeps its own policy", () => {
  const clock = new ManualClock();
  const finPeer = new GroupEndPolicy({ graceMs: 50, clock });
  const noFinPeer = new GroupEndPolicy({ graceMs: 50, clock });
  const ended: number[] = [];
  using a = finPeer.tracker(() => ended.push(-1));
  using b = noFinPeer.tracker((below) => ended.push(below));
  finPeer.finSeen();
  a.groupStarted(3);
  b.groupStarted(3);
  clock.advance(50);
  assertEquals(ended, [3]);
});

Deno.test("disposing a track's tracker cancels its pending supersession; twice is a no-op", () => {
  const clock = new ManualClock();
  const policy = new GroupEndPolicy({ graceMs: 50, clock });
  const ended: number[] = [];
  const track = policy.tracker((below) => ended.push(below));
  track.groupStarted(1);
  track[Symbol.dispose]();
  track[Symbol.dispose]();
  track.groupStarted(2);
  clock.advance(100);
  assertEquals([ended, clock.timers.size], [[], 0]);
});
