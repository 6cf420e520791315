/**
 * The script of `GET /calls`, the operators' live-calls view: every live call with from,
 * to, status and duration, level meters and jitter/loss/latency plots per direction (each
 * direction's track watched with a {@linkcode TrackMonitor} on the relay shard that owns the
 * call, `GET /v1/relay/placement/{sid}`, so the view pulls nothing across shards), and a
 * hang-up button. Status comes from each call's SSE stream; new calls from the call list.
 * `?token=` supplies the token (else the token field).
 *
 * @module
 */
import { type Call, Voice } from "../../sdk/voice.ts";
import { configureDefaultMedia, defaultMoq } from "../default_media.ts";
import { TrackMonitor } from "../track_monitor.ts";
import { describeError } from "../softphone.ts";
import { LivePlot } from "./plot.ts";
import { startWithToken } from "./token_prompt.ts";
import { byTestId as $, document, type El } from "./dom.ts";

const params = new URLSearchParams(location.search);
const LIVE = ["dialing", "ringing", "in_progress"] as const;

interface Row {
  readonly element: El;
  call: Call;
  readonly abort: AbortController;
  readonly monitors: { uplink: TrackMonitor; downlink: TrackMonitor };
  readonly plot: LivePlot;
}

function say(text: string): void {
  $("message").textContent = text;
}

function cell(row: El, name: string): El {
  const found = row.querySelector(`[data-field="${name}"]`);
  if (!found) throw new TypeError(`Cannot find field "${name}" in a call row`);
  return found;
}

function duration(call: Call): string {
  const from = call.times.in_progress ?? call.createdAt;
  const s = Math.max(0, Math.round((Date.now() - Date.parse(from)) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

async function start(token: string): Promise<void> {
  const voice = new Voice({ baseUrl: location.origin, token });
  const rows = new Map<string, Row>();
  // One connection per relay shard, opened when a call on it first shows, shared after.
  configureDefaultMedia({ baseUrl: location.origin, token });
  const relayOf = (sid: string) => async () => {
    try {
      return await defaultMoq(sid);
    } catch (error) {
      say(`No live audio statistics for ${sid}: ${describeError(error)}`);
      throw error;
    }
  };

  const render = (row: Row) => {
    const { call, element } = row;
    cell(element, "from").textContent = call.from;
    cell(element, "to").textContent = call.to;
    cell(element, "status").textContent = call.status;
    cell(element, "duration").textContent = duration(call);
  };

  const add = (call: Call) => {
    const element = document.createElement("article");
    element.className = "call";
    element.dataset.testid = `call-${call.sid}`;
    element.dataset.sid = call.sid;
    element.innerHTML = `
      <header><code data-field="sid"></code> <span data-field="from"></span> →
        <span data-field="to"></span> · <b data-field="status"></b> ·
        <span data-field="duration"></span>
        <button data-field="hangup">Hang up</button></header>
      <div>uplink <meter min="0" max="0.5" data-field="level-uplink"></meter>
        downlink <meter min="0" max="0.5" data-field="level-downlink"></meter></div>
      <div data-field="plot" class="plot"></div>`;
    cell(element, "sid").textContent = call.sid;
    const hangup = cell(element, "hangup");
    hangup.dataset.testid = `hangup-${call.sid}`;
    hangup.addEventListener(
      "click",
      () => voice.calls.hangup(call.sid).catch((error) => say(describeError(error))),
    );
    $("calls").append(element);
    const plot = new LivePlot(cell(element, "plot"), [
      { label: "up jitter ms", stroke: "#d33" },
      { label: "down jitter ms", stroke: "#f90" },
      { label: "up latency ms", stroke: "#36c" },
      { label: "down latency ms", stroke: "#3a3" },
      { label: "lost frames", stroke: "#888" },
    ], { width: 520, height: 150 });
    const row: Row = {
      element,
      call,
      plot,
      abort: new AbortController(),
      monitors: {
        uplink: new TrackMonitor(relayOf(call.sid), call.sid, "uplink"),
        downlink: new TrackMonitor(relayOf(call.sid), call.sid, "downlink"),
      },
    };
    rows.set(call.sid, row);
    render(row);
    follow(row);
  };

  const remove = (row: Row) => {
    row.abort.abort();
    row.monitors.uplink[Symbol.dispose]();
    row.monitors.downlink[Symbol.dispose]();
    row.element.remove();
    rows.delete(row.call.sid);
  };

  const follow = async (row: Row) => {
    try {
      for await (const event of voice.calls.events(row.call.sid, { signal: row.abort.signal })) {
        if (event.type !== "status") continue;
        row.call = event.call;
        render(row);
        if (!LIVE.includes(event.call.status as typeof LIVE[number])) {
          row.element.dataset.ended = event.call.status;
          setTimeout(() => remove(row), 3000);
          return;
        }
      }
    } catch (error) {
      if (!row.abort.signal.aborted) {
        say(`Lost call ${row.call.sid}'s events: ${describeError(error)}`);
      }
    }
  };

  const refresh = async () => {
    try {
      for (const status of LIVE) {
        const page = await voice.calls.list({ status, limit: 100 });
        for (const call of page.calls) if (!rows.has(call.sid)) add(call);
      }
      $("count").textContent = String(rows.size);
      document.body.dataset.loaded = "true";
    } catch (error) {
      say(`Cannot list calls: ${describeError(error)}`);
    }
  };

  await refresh();
  setInterval(refresh, 2000);
  setInterval(() => {
    for (const row of rows.values()) {
      cell(row.element, "duration").textContent = duration(row.call);
      const up = row.monitors.uplink.stats;
      const down = row.monitors.downlink.stats;
      cell(row.element, "level-uplink").value = up.level;
      cell(row.element, "level-downlink").value = down.level;
      if (row.call.status === "in_progress") {
        row.plot.push([
          up.jitterMs,
          down.jitterMs,
          up.transitMs,
          down.transitMs,
          up.lost + down.lost,
        ]);
        row.element.dataset.plotUpdates = String(row.plot.updates);
        row.element.dataset.uplinkFrames = String(up.received);
        row.element.dataset.downlinkFrames = String(down.received);
      }
    }
  }, 500);
}

startWithToken(params, say, start);
