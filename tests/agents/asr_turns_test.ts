import { assert, assertEquals } from "@std/assert";
import { startAgentServer } from "./_fixture.ts";
import { feedUlaw, turns8k } from "./_audio.ts";
import { heardTurns, turnsHeard } from "./_asr_agent.ts";
import { startFakeRecognizer } from "../plugins/asr-tap/_recognizers.ts";
import { UTTERANCES } from "../plugins/asr-tap/_turns.ts";

const KEY_ENV = "AGENTS_TEST_DEEPGRAM_KEY";

Deno.test("module agent + asr-tap: each caller turn handed to the agent carries the recognizer's final text", async () => {
  await using fake = startFakeRecognizer({
    protocol: "deepgram",
    key: "agents-test-key",
    utterances: UTTERANCES,
  });
  Deno.env.set(KEY_ENV, "agents-test-key");
  try {
    await using fx = await startAgentServer({
      agents: {
        listener: {
          type: "module",
          module: new URL("./_asr_agent.ts", import.meta.url).href,
          // The fixture's utterances pause for less than this inside, more between them.
          turn: { silenceMs: 900 },
        },
      },
      plugins: [{
        module: "builtin:asr-tap",
        options: {
          provider: "deepgram",
          url: fake.url,
          apiKeyEnv: KEY_ENV,
          endpointingMs: 700,
          hangoverMs: 900,
        },
      }],
    });
    const { sid, caller, events } = await fx.liveCall("g711_ulaw");
    await fx.voice.agents.attach({ sid, agent: "listener" });
    await events.next((e) => e.type === "agent");
    const before = heardTurns.length;
    await feedUlaw(caller, turns8k());
    const turns = (await turnsHeard(before + 2)).slice(before);
    assertEquals(turns.map((t) => t.text), UTTERANCES);
    // The audio is still the turn's (the text rides along with it).
    for (const turn of turns) assert(turn.pcm.length > 8000 * 2, `${turn.pcm.length} samples`);
    // The same finals are the call's transcript.
    const transcript = await fx.voice.calls.transcript(sid);
    assertEquals(transcript.finals.map((f) => f.text).join(" "), UTTERANCES.join(" "));
    await fx.voice.calls.hangup(sid);
  } finally {
    Deno.env.delete(KEY_ENV);
  }
});
