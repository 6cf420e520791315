import { assertEquals } from "@std/assert";
import { TurnTexts } from "../../src/agents/turn_text.ts";

Deno.test("turn texts: without a recognizer a turn goes out at once without text", () => {
  using texts = new TurnTexts();
  const got: (string | undefined)[] = [];
  texts.turnEnded((t) => got.push(t));
  assertEquals(got, [undefined]);
  assertEquals(texts.active, false);
});

Deno.test("turn texts: a turn waits for the recognizer's end_of_turn, and gets the finals since the last turn", () => {
  using texts = new TurnTexts({ waitMs: 60_000 });
  const got: (string | undefined)[] = [];
  texts.result({ kind: "speech_start", text: "" });
  texts.result({ kind: "partial", text: "billing" });
  texts.result({ kind: "final", text: "billing" });
  texts.turnEnded((t) => got.push(t));
  assertEquals(got, []);
  texts.result({ kind: "final", text: "department  please" });
  texts.result({ kind: "end_of_turn", text: "billing department please" });
  assertEquals(got, ["billing department please"]);
  // The recognizer done first: the next turn goes out at once with what followed.
  texts.result({ kind: "final", text: "thanks" });
  texts.result({ kind: "end_of_turn", text: "thanks" });
  texts.turnEnded((t) => got.push(t));
  assertEquals(got, ["billing department please", "thanks"]);
});

Deno.test("turn texts: a turn the recognizer never ends goes out after the wait, or when the next turn ends", async () => {
  using texts = new TurnTexts({ waitMs: 10 });
  texts.result({ kind: "final", text: "hello" });
  const first = await new Promise<string | undefined>((resolve) => texts.turnEnded(resolve));
  assertEquals(first, "hello");
  const got: (string | undefined)[] = [];
  texts.result({ kind: "final", text: "one" });
  texts.turnEnded((t) => got.push(t));
  texts.turnEnded((t) => got.push(t));
  assertEquals(got, ["one"]);
  texts.result({ kind: "end_of_turn", text: "" });
  assertEquals(got, ["one", ""]);
});

Deno.test("turn texts: a hostile recognizer's finals are bounded; dispose drops a waiting turn", () => {
  const texts = new TurnTexts({ waitMs: 60_000 });
  for (let i = 0; i < 10_000; i++) texts.result({ kind: "final", text: "x".repeat(100) });
  const got: string[] = [];
  texts.turnEnded((t) => got.push(t!));
  texts.result({ kind: "end_of_turn", text: "" });
  assertEquals(got[0].length <= 16_384 + 256, true);
  texts.turnEnded((t) => got.push(t!));
  texts[Symbol.dispose]();
  texts[Symbol.dispose]();
  assertEquals(got.length, 1);
});
