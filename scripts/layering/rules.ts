/**
 * The layering of `src/`, written down once: which floor each folder stands on, and the
 * known violations still being removed. `scripts/check_layering.ts` (run by `deno task check`)
 * checks the real module graph against it.
 *
 * A module may import a module of its own folder, or of a folder on a lower floor; never a
 * folder on its own floor or above, and never in a cycle. The most specific prefix decides a
 * file's folder. `sdk` and `browser` stand aside: they may import what is below them but not
 * `src/server`, and use no Deno API (they run in browsers and on other runtimes).
 *
 * @module
 */

/** A folder of `src/` (a path prefix relative to the repository) and its floor. */
export interface Layer {
  /** Path prefix relative to the repository root, e.g. `src/relay/model/`. */
  readonly prefix: string;
  /** 0 is the ground; higher floors may import lower ones. `aside` for sdk and browser,
   * `entry` for the package entry (may import anything but `src/server`). */
  readonly floor: number | "aside" | "entry";
  /** Why the folder stands where it does. */
  readonly note: string;
  /** Folders beside it (`aside`) that it builds on, e.g. the browser SDK on the fetch SDK. */
  readonly stacksOn?: readonly string[];
}

/** The floors, from ARCHITECTURE.md's "Layering" table. */
export const LAYERS: readonly Layer[] = [
  { prefix: "src/log/", floor: 0, note: "the leaf: imports nothing of ours" },
  {
    prefix: "src/api/",
    floor: 0,
    note:
      "the HTTP API's wire shapes (problem details, the agent runtime's call events), shared by server, agents and SDK; imports nothing",
  },
  {
    prefix: "src/relay/error.ts",
    floor: 0,
    note: "the neutral MoQT session errors, a leaf that model, coding and dialects share",
  },
  {
    prefix: "src/config/",
    floor: 0,
    note: "config-file helpers every section's zod schema shares (one message per issue)",
  },
  { prefix: "src/metrics/", floor: 0, note: "process metrics every floor feeds (prom-client)" },
  { prefix: "src/relay/model/", floor: 1, note: "protocol-neutral MoQT model" },
  { prefix: "src/relay/wire/coding/", floor: 1, note: "varints, buffers, stream reading" },
  {
    prefix: "src/relay/transport/transport.ts",
    floor: 1,
    note: "the transport interface every dialect is written against (types only)",
  },
  { prefix: "src/codecs/", floor: 1, note: "pure codecs, no I/O" },
  {
    prefix: "src/voice/sid.ts",
    floor: 1,
    note: "a call's name (sid grammar, call namespace): auth confines tokens by it",
  },
  { prefix: "src/relay/wire/", floor: 2, note: "one folder per wire dialect (draft14, …)" },
  { prefix: "src/relay/transport/", floor: 2, note: "QUIC and WebTransport on Deno" },
  { prefix: "src/voice/", floor: 2, note: "voice track conventions" },
  { prefix: "src/auth/", floor: 2, note: "tokens and grants" },
  { prefix: "src/relay/", floor: 3, note: "relay and client sessions (picks the dialect)" },
  { prefix: "src/bridge/", floor: 3, note: "AudioBridge" },
  { prefix: "src/rtp/", floor: 3, note: "RTP media" },
  { prefix: "src/store/", floor: 3, note: "KV and Redis stores" },
  {
    prefix: "src/http/",
    floor: 3,
    note: "the HTTP edge the route modules share: problems, idempotency, OpenAPI helpers",
  },
  { prefix: "src/calls/", floor: 4, note: "the Calls control plane" },
  { prefix: "src/sip/", floor: 4, note: "SIP gateway" },
  { prefix: "src/plugins/", floor: 4, note: "built-in plugins and the plugin API" },
  { prefix: "src/agents/", floor: 4, note: "agent runtime" },
  {
    prefix: "src/cluster/",
    floor: 4.5,
    note:
      "many nodes on Redis: joins the floor-4 services of the nodes (leases, events, forwarding)",
  },
  { prefix: "src/server/", floor: 5, note: "composition root: only main.ts imports it" },
  { prefix: "src/sdk/", floor: "aside", note: "fetch/WebTransport only, no Deno API" },
  {
    prefix: "src/browser/",
    floor: "aside",
    note: "fetch/WebTransport only, no Deno API; its Calls API client is the SDK's",
    stacksOn: ["src/sdk/"],
  },
  { prefix: "mod.ts", floor: "entry", note: "the package entry: re-exports, no server" },
];

/** An import known to break the layering, listed until the named work removes it. */
export interface KnownViolation {
  /** The importing file, relative to the repository root. */
  readonly from: string;
  /** The imported file, relative to the repository root. */
  readonly to: string;
  /** The issue item that removes it. */
  readonly removedBy: string;
}

/**
 * Imports that break the layering today. Each entry names the issue item removing it; the
 * check fails when an entry is no longer needed, so the list only shrinks.
 */
export const KNOWN_VIOLATIONS: readonly KnownViolation[] = [];
