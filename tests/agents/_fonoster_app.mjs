// A Fonoster Voice Application written against npm @fonoster/voice, unchanged: the library's
// own VoiceServer (a gRPC server) and VoiceResponse verbs. Run in its own process:
//
//   deno run --no-config --no-lock -A tests/agents/_fonoster_app.mjs <port> <mode> [file] [reply]
//   (<port> 0: one the kernel picks; the test reads it from /proc)
//
// Modes (the test reads the JSON lines it prints on stdout):
// - ivr:     answer → say(prompt) → gather({maxDigits: 4}) → say(the digits) → hangup
// - typeahead: answer → say(`file`, a long prompt) → gather({maxDigits: 4, timeout: `reply` ms})
//            → hangup (the digits were pressed during the say)
// - stream:  answer → stream(); writes the raw file `reply` (8 kHz PCM16) as AUDIO_IN and saves
//            the first 8 s of AUDIO_OUT (the caller) to `file`
// - verbs:   answer → play(`file`, a WAV URL) → mute OUT → say → unmute → say + stopSay →
//            playDtmf (no SIP leg: an ERROR payload) → say → hangup
// - control: answer → play(`file`) → playbackControl(its ref, each action) → say → hangup
// - record: answer → record(JSON.parse(`file`)) → say → hangup (prints "recording" before)
// - dial:  answer → dial(`file`, {timeout: 30}); prints each dialStatus it is sent as
//            "dial <STATUS>" (0.18.2's dial() awaits a `dialResponse` its proto has no field for)
// - die:     answer → say → the process exits mid-call
// - unknown: answer → a message with no verb in it → prints the ERROR payload → say → hangup
// `skipIdentity` only skips fetching a public key from api.fonoster.com (no Fonoster account
// in a test); the session protocol is the same.
// Run with --no-config (no import map, its npm tree kept out of the project's lock file).
// deno-lint-ignore no-import-prefix
import voice from "npm:@fonoster/voice@0.18.2";

const VoiceServer = voice.default;
const [port, mode, file, reply] = Deno.args;
const print = (line) => console.log(JSON.stringify(line));

new VoiceServer({ skipIdentity: true, bind: "127.0.0.1", port: Number(port) }).listen(
  async (req, res) => {
    print({ event: "request", request: req });
    await res.answer();
    print({ event: "answered" });
    if (mode === "ivr") {
      await res.say("Please enter four digits.");
      print({ event: "said" });
      const gathered = await res.gather({ maxDigits: 4, timeout: 30000 });
      print({ event: "gathered", gathered });
      await res.say(`You entered ${String(gathered.digits ?? "").split("").join(" ")}`);
      await res.hangup();
      print({ event: "hung up" });
    } else if (mode === "typeahead") {
      await res.say(file);
      print({ event: "said" });
      const gathered = await res.gather({ maxDigits: 4, timeout: Number(reply) });
      print({ event: "gathered", gathered });
      await res.hangup();
      print({ event: "hung up" });
    } else if (mode === "stream") {
      const stream = await res.stream();
      const chunks = [];
      let bytes = 0;
      stream.onPayload((payload) => {
        if (payload.type !== "AUDIO_OUT" || bytes >= 8 * 16000) return;
        chunks.push(payload.data);
        bytes += payload.data.length;
        if (bytes >= 8 * 16000) {
          const all = new Uint8Array(bytes);
          chunks.reduce((at, c) => (all.set(c, at), at + c.length), 0);
          Deno.writeFileSync(file, all);
          print({ event: "saved", bytes });
        }
      });
      const audio = Deno.readFileSync(reply);
      for (let at = 0; at < audio.length; at += 320) {
        stream.write({ type: "AUDIO_IN", data: audio.subarray(at, at + 320) });
      }
      print({ event: "streaming" });
    } else if (mode === "control") {
      res.on("data", (data) => {
        if (data.streamPayload?.type === "ERROR") {
          print({ event: "error", error: data.streamPayload });
        }
      });
      const { playbackRef } = await res.play(file);
      const answered = [];
      for (const action of ["PAUSE", "UNPAUSE", "RESTART", "FORWARD", "STOP"]) {
        answered.push([action, await res.playbackControl(playbackRef, action)]);
      }
      print({ event: "controlled", playbackRef, answered });
      await res.say("Goodbye.");
      await res.hangup();
      print({ event: "hung up" });
    } else if (mode === "record") {
      print({ event: "recording" });
      const record = await res.record(JSON.parse(file));
      print({ event: "recorded", record });
      await res.say("Goodbye.");
      await res.hangup();
      print({ event: "hung up" });
    } else if (mode === "dial") {
      res.on("data", (data) => {
        if (data.dialStatus) print({ event: `dial ${data.dialStatus.status ?? "TRYING"}` });
        if (data.streamPayload?.type === "ERROR") {
          print({ event: "error", error: data.streamPayload });
        }
      });
      print({ event: "dialing" });
      res.dial(file, { timeout: 30 }).then(() => print({ event: "dial resolved" }));
    } else if (mode === "die") {
      await res.say("Goodbye.");
      print({ event: "dying" });
      Deno.exit(3);
    } else if (mode === "verbs") {
      res.on("data", (data) => {
        if (data.streamPayload?.type === "ERROR") {
          print({ event: "error", error: data.streamPayload });
        }
      });
      print({ event: "played", played: await res.play(file) });
      await res.mute({ direction: "OUT" });
      await res.say("This sentence is muted.");
      await res.unmute({ direction: "OUT" });
      const saying = res.say(
        "A long sentence that the application stops at once, before it is heard.",
      );
      await res.stopSay();
      await saying;
      print({ event: "stopped" });
      const failed = new Promise((resolve) => res.on("data", (d) => d.streamPayload && resolve()));
      res.playDtmf("5");
      await failed;
      await res.say("Goodbye.");
      await res.hangup();
      print({ event: "hung up" });
    } else if (mode === "unknown") {
      res.on("data", (data) => {
        if (data.streamPayload?.type === "ERROR") {
          print({ event: "error", error: data.streamPayload });
        }
      });
      // A message with none of the session's fields set (the library's own stream).
      res.voice.write({});
      await new Promise((resolve) => res.on("data", (d) => d.streamPayload && resolve()));
      await res.say("Still here.");
      await res.hangup();
      print({ event: "hung up" });
    }
  },
);
print({ event: "listening", port: Number(port) });
