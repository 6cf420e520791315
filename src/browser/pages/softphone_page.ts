/**
 * The script of `GET /softphone`: wires the page's controls (`data-testid` `to`, `call`,
 * `answer`, `hangup`, `mute`, `status`, `dtmf-0`…`dtmf-9`, `dtmf-star`, `dtmf-hash`) to a
 * {@linkcode Softphone}. `?identity=` registers as `client:<identity>`, `?token=` supplies
 * the token (else the token field), `?capture=1` keeps the played audio and the microphone's
 * PCM for measurements, `?processing=0` turns the microphone's echo cancellation, gain control
 * and noise suppression off (measurements with a known signal), `?certificateHash=` pins a
 * relay certificate hash, `?relayUrl=` connects through another address (an impairment proxy),
 * `?targetDelayMs=` / `?maxDelayMs=` set the playout buffer [60 / 200].
 *
 * @module
 */
import { describeError, Softphone } from "../softphone.ts";
import { LivePlot } from "./plot.ts";
import { startWithToken } from "./token_prompt.ts";
import { byTestId as $, document } from "./dom.ts";

const params = new URLSearchParams(location.search);
const statusEl = $("status");
const messageEl = $("message");
const sidEl = $("sid");
const log: string[] = [];

/** Shows `text` under the two messages before it (a reason stays visible as the call ends). */
function say(text: string): void {
  log.push(text);
  messageEl.textContent = log.slice(-3).join("\n");
}

async function guarded(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    say(describeError(error));
  }
}

function start(token: string): Softphone {
  const capture = params.get("capture") === "1";
  const phone = new Softphone({
    token,
    certificateHash: params.get("certificateHash") ?? undefined,
    relayUrl: params.get("relayUrl") ?? undefined,
    player: {
      capture,
      targetDelayMs: Number(params.get("targetDelayMs") ?? 60),
      maxDelayMs: Number(params.get("maxDelayMs") ?? 200),
    },
    microphone: { record: capture, processing: params.get("processing") !== "0" },
  });
  Object.assign(globalThis, { softphone: phone, softphoneLog: log });
  phone.addEventListener("message", (e) => say((e as CustomEvent<string>).detail));
  phone.addEventListener("status", (e) => {
    const call = (e as CustomEvent).detail;
    statusEl.textContent = call.status;
    sidEl.textContent = call.sid;
    document.body.dataset.phone = phone.state.state;
  });
  phone.addEventListener("incoming", (e) => {
    const call = (e as CustomEvent).detail;
    say(`Incoming call from ${call.from}`);
  });
  $("call").addEventListener("click", () =>
    guarded(async () => {
      const to = String($("to").value).trim();
      if (!to) throw new TypeError("Enter a number or client:<identity> to call");
      say(`Calling ${to}`);
      await phone.dial(to);
    }));
  $("answer").addEventListener("click", () => guarded(() => phone.answer()));
  $("reject").addEventListener("click", () => guarded(() => phone.reject()));
  $("hangup").addEventListener("click", () => guarded(() => phone.hangup()));
  $("mute").addEventListener("click", () => {
    phone.setMuted(!phone.muted);
    $("mute").textContent = phone.muted ? "Unmute" : "Mute";
    $("mute").setAttribute("aria-pressed", String(phone.muted));
  });
  for (const key of [..."0123456789", "star", "hash"]) {
    const digit = key === "star" ? "*" : key === "hash" ? "#" : key;
    $(`dtmf-${key}`).addEventListener("click", () => guarded(() => phone.sendDigits(digit)));
  }
  const plot = new LivePlot($("plot"), [
    { label: "jitter ms", stroke: "#d33" },
    { label: "playout delay ms", stroke: "#36c" },
  ], { width: 340, height: 120 });
  Object.assign(globalThis, { softphonePlot: plot });
  setInterval(async () => {
    const mic = await phone.microphone?.catch(() => undefined);
    const stats = phone.mediaStats?.player;
    $("level-in").value = mic?.level ?? 0;
    $("level-out").value = stats?.level ?? 0;
    if (stats) {
      plot.push([stats.jitterMs, stats.playoutDelayMs]);
      $("stats").textContent = `jitter ${stats.jitterMs.toFixed(1)} ms · playout ${
        stats.playoutDelayMs.toFixed(0)
      } ms · lost ${stats.lost} · late ${stats.late}`;
    }
  }, 250);
  const identity = params.get("identity");
  if (identity) {
    guarded(async () => {
      await phone.register(identity);
      $("identity").textContent = `client:${identity}`;
      document.body.dataset.registered = identity;
      say(`Registered as client:${identity}`);
    });
  }
  return phone;
}

startWithToken(params, say, start);
