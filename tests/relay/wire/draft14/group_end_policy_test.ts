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

Deno.test("a peer that has not sent FIN has older open groups superseded after the grace", () => {
  const clock = new ManualClock();
  const policy = new GroupEndPolicy({ graceMs: 50, clock });
  const ended: number[] = [];
  using track = policy.tracker((id) => ended.push(id));
  assertEquals(policy.state, "learning");
  track.groupStarted(0);
  track.groupStarted(1);
  clock.advance(49);
  assertEquals(ended, [], "still within the grace");
  clock.advance(1);
  assertEquals(ended, [0], "group 0 is superseded; group 1 is the newest");
  assertEquals(track.pending, 0);
});

Deno.test("a group that ends by itself within its grace is not cut", () => {
  const clock = new ManualClock();
  const policy = new GroupEndPolicy({ graceMs: 50, clock });
  const ended: number[] = [];
  using track = policy.tracker((id) => ended.push(id));
  track.groupStarted(0);
  track.groupStarted(1);
  track.groupEnded(0); // its last objects and FIN arrived in time
  clock.advance(100);
  assertEquals(ended, []);
});

Deno.test("each newer group gives the groups open then their grace, one timer per track", () => {
  const clock = new ManualClock();
  const policy = new GroupEndPolicy({ graceMs: 50, clock });
  const ended: number[] = [];
  using track = policy.tracker((id) => ended.push(id));
  track.groupStarted(4);
  track.groupStarted(5);
  clock.advance(20);
  track.groupStarted(6);
  track.groupStarted(6); // a repeated header gives nobody a second grace
  assertEquals([track.pending, clock.timers.size], [2, 1]);
  clock.advance(30);
  assertEquals(ended, [4], "group 5's start gave group 4 its grace");
  clock.advance(19);
  assertEquals(ended, [4]);
  clock.advance(1);
  assertEquals(ended, [4, 5], "group 6 started 20 ms later, so group 5's grace ends 20 ms later");
  assertEquals(clock.timers.size, 0);
});

Deno.test("an older group whose stream starts late gets its own grace, not the newer group's", () => {
  const clock = new ManualClock();
  const policy = new GroupEndPolicy({ graceMs: 50, clock });
  const ended: number[] = [];
  using track = policy.tracker((id) => ended.push(id));
  track.groupStarted(8);
  clock.advance(40);
  track.groupStarted(7); // read after group 8 began: nothing newer started since
  clock.advance(40);
  assertEquals(ended, [], "group 7 is only superseded by a group starting after it");
  track.groupStarted(9);
  clock.advance(50);
  assertEquals(ended, [7, 8]);
});

Deno.test("one FIN from the peer ends supersession on every track of that peer", () => {
  const clock = new ManualClock();
  const policy = new GroupEndPolicy({ graceMs: 50, clock });
  const ended: string[] = [];
  using a = policy.tracker((id) => ended.push(`a${id}`));
  using b = policy.tracker((id) => ended.push(`b${id}`));
  a.groupStarted(0);
  a.groupStarted(1);
  b.groupStarted(6);
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
  using b = noFinPeer.tracker((id) => ended.push(id));
  finPeer.finSeen();
  for (const id of [2, 3]) {
    a.groupStarted(id);
    b.groupStarted(id);
  }
  clock.advance(50);
  assertEquals(ended, [2]);
});

Deno.test("disposing a track's tracker cancels its pending supersession; twice is a no-op", () => {
  const clock = new ManualClock();
  const policy = new GroupEndPolicy({ graceMs: 50, clock });
  const ended: number[] = [];
  const track = policy.tracker((id) => ended.push(id));
  track.groupStarted(0);
  track.groupStarted(1);
  track[Symbol.dispose]();
  track[Symbol.dispose]();
  track.groupStarted(2);
  clock.advance(100);
  assertEquals([ended, clock.timers.size], [[], 0]);
});
