/**
 * The plugin API: what a plugin is, what it gets from the server, and `definePlugin` to
 * declare one. Third-party plugins publish on JSR with exactly this API.
 *
 * @module
 */
import type { LocalTracks, TrackConsumer } from "../relay/model/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { AsrEvent, TranscriptEvent } from "../voice/transcript.ts";

/** The call events a plugin may put on a call (see `src/voice/transcript.ts`). */
export type PluginCallEvent = TranscriptEvent | AsrEvent;

/**
 * A call event as plugins hear it: every event of every call (`status`, `media`, `dtmf`,
 * `speech`, `transcript`, …), narrowed by `type`. Fields beyond these depend on the type
 * (the Calls API's `CallEvent`).
 */
export interface PluginCallEventView {
  /** The event type. */
  readonly type: string;
  /** The call id. */
  readonly sid: string;
  /** When it happened (ISO 8601). */
  readonly at: string;
}

/**
 * Call events for plugins: emit onto a call, listen to every call. What a plugin emits goes
 * where the server's own events go: the call's SSE stream (`GET /v1/calls/{sid}/events`),
 * its status callback, and every plugin listening (module agents included).
 *
 * An implementation MUST deliver `emit` synchronously to in-process listeners, MUST NOT
 * throw from `emit` (a bad listener is isolated), and MUST stop calling a listener once
 * its stop function ran.
 */
export interface PluginCallEvents {
  /** Puts `event` on call `event.sid`. */
  emit(event: PluginCallEvent): void;
  /** Hears every call's events; returns the function that stops listening. */
  on(listener: (event: PluginCallEventView) => void): () => void;
}

/**
 * What a running plugin may do. Everything it opens is closed when it stops or is detached.
 * Its `publishTrack` and `subscribe` are the relay's {@linkcode LocalTracks}, the interface an
 * `Origin` and a bridge share.
 */
export interface PluginContext extends LocalTracks {
  /** The plugin's name, as declared. */
  readonly name: string;
  /** A logger tagged with the plugin's name. */
  readonly log: Logger;
  /** A folder of the server's data dir the plugin may write to (`<data-dir>`). */
  readonly dataDir: string;
  /** Aborted when the plugin stops or is detached. */
  readonly signal: AbortSignal;
  /**
   * Hands every live and future track whose capability matches `pattern` (`voice/*`,
   * `voice/pcm16`) to `handler`. The handler owns the consumer; a handler that throws or
   * rejects detaches the plugin.
   */
  route(pattern: string, handler: (track: TrackConsumer) => void | Promise<void>): void;
  /**
   * Call events: `ctx.calls.emit(event)` puts a `transcript` or `asr` event on a call (SSE,
   * webhooks, other plugins); `ctx.calls.on(listener)` hears every call's events. Listeners
   * are removed when the plugin stops; emitting after that is a no-op.
   *
   * @example
   * ```ts ignore
   * const stop = ctx.calls.on((event) => {
   *   if (event.type === "speech") ctx.log.info("speech on call", { sid: event.sid });
   * });
   * ```
   */
  readonly calls: PluginCallEvents;
}

/** What a plugin's `setup` may return: a function (or disposable) run when it stops. */
export type PluginTeardown = void | (() => void | Promise<void>) | AsyncDisposable | Disposable;

/** A plugin's declaration. */
export interface PluginDefinition<Options> {
  /** A short unique name, e.g. `"recorder"`. */
  readonly name: string;
  /** The plugin's version, for logs. */
  readonly version?: string;
  /**
   * Starts the plugin with its options from the server configuration. MUST return within
   * the host's start timeout; long-running work belongs in route handlers or tasks that
   * watch `ctx.signal`.
   */
  setup(ctx: PluginContext, options: Options): PluginTeardown | Promise<PluginTeardown>;
}

/** The brand {@linkcode definePlugin} puts on a plugin (shared across module copies). */
export const PLUGIN: unique symbol = Symbol.for("clutchcall.voice.plugin") as never;

/** A declared plugin, as a module's default export. */
export interface Plugin<Options = Record<string, unknown>> extends PluginDefinition<Options> {
  /** Brand set by {@linkcode definePlugin}. */
  readonly [PLUGIN]: true;
}

/**
 * Declares a plugin. A plugin module default-exports the result; the server loads it from
 * the `plugins` list of its config file (local path, `npm:` or `jsr:` specifier).
 *
 * @example
 * ```ts
 * import { definePlugin } from "@clutchcall/voice/plugins";
 *
 * export default definePlugin<{ prefix?: string }>({
 *   name: "track-logger",
 *   setup(ctx, { prefix = "new track" }) {
 *     ctx.route("voice/*", (track) => {
 *       ctx.log.info(prefix, { track: track.info.name, capability: track.info.capability });
 *       track.close();
 *     });
 *   },
 * });
 * ```
 */
export function definePlugin<Options = Record<string, unknown>>(
  definition: PluginDefinition<Options>,
): Plugin<Options> {
  if (
    typeof definition?.name !== "string" || !/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(definition.name)
  ) {
    throw new TypeError(`Cannot define plugin: name "${definition?.name}" is malformed`);
  }
  if (typeof definition.setup !== "function") {
    throw new TypeError(`Cannot define plugin "${definition.name}": setup is not a function`);
  }
  return Object.freeze({ ...definition, [PLUGIN]: true as const });
}

/** True when `value` was made by {@linkcode definePlugin}. */
export function isPlugin(value: unknown): value is Plugin<unknown> {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[PLUGIN] === true;
}
