/**
 * The plugin host: loads plugins named in the configuration, starts and stops them with the
 * server, and isolates them. A plugin whose setup throws or stalls, or whose route handler
 * throws, is logged and detached (its routes removed, its tracks closed, its signal
 * aborted); the relay and every call go on.
 *
 * @module
 */
import type { Origin, Registration, TrackConsumer, TrackProducer } from "../relay/model/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  isPlugin,
  type Plugin,
  type PluginCallEvents,
  type PluginCallEventView,
  type PluginContext,
  type PluginTeardown,
} from "./define.ts";

/**
 * What to load: a plugin entry as the server configuration lists it (the configuration's own
 * `PluginConfig` fills in the defaults and is accepted as is).
 */
export interface PluginSpec {
  /**
   * Module specifier: a path (resolved against `baseUrl`), `npm:…`, `jsr:…`, a URL, or
   * `builtin:<name>` for a plugin shipped with the server (see {@linkcode BUILTIN_PLUGINS}).
   */
  readonly module: string;
  /** Options passed to the plugin's `setup`. */
  readonly options?: Record<string, unknown>;
  /** Set to false to keep the entry but not load it [true]. */
  readonly enabled?: boolean;
}

/**
 * The plugins shipped with the server, loadable as `builtin:<name>`: name → module URL.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { BUILTIN_PLUGINS } from "@clutchcall/voice/plugins";
 * assert("recorder" in BUILTIN_PLUGINS);
 * ```
 */
export const BUILTIN_PLUGINS: Readonly<Record<string, string>> = Object.freeze({
  recorder: new URL("./recorder/mod.ts", import.meta.url).href,
  "asr-tap": new URL("./asr-tap/mod.ts", import.meta.url).href,
});

/**
 * The built-ins as static imports: `deno publish` sees (and rewrites) each, so they load from
 * the published package as from a checkout. Same names as {@linkcode BUILTIN_PLUGINS}.
 */
const BUILTIN_LOADERS: Readonly<Record<string, () => Promise<{ default?: unknown }>>> = {
  recorder: () => import("./recorder/mod.ts"),
  "asr-tap": () => import("./asr-tap/mod.ts"),
};

function builtinPluginLoader(module: string): () => Promise<{ default?: unknown }> {
  const name = module.slice("builtin:".length);
  const load = Object.hasOwn(BUILTIN_LOADERS, name) ? BUILTIN_LOADERS[name] : undefined;
  if (!load) {
    throw new TypeError(
      `Cannot load plugin "${module}": no built-in plugin "${name}" (known: ${
        Object.keys(BUILTIN_PLUGINS).join(", ")
      })`,
    );
  }
  return load;
}

/** Options for a {@linkcode PluginHost}. */
export interface PluginHostOptions {
  /** The relay's origin plugins route and publish on. */
  readonly origin: Origin;
  /** The server's logger; each plugin gets a child tagged with its name. */
  readonly log: Logger;
  /** The server's data dir, handed to plugins. */
  readonly dataDir: string;
  /** How long `setup` and teardown may take, in ms [10000]. */
  readonly timeoutMs?: number;
  /**
   * Where plugins' call events go and come from (the server wires the Calls service here).
   * Unset: an in-process fan-out between the plugins of this host only.
   */
  readonly calls?: PluginCallEvents;
}

/** The state of one loaded plugin. */
export type PluginState = "starting" | "running" | "stopped" | "detached";

/** A loaded plugin, as the host reports it. */
export interface PluginStatus {
  /** The plugin's declared name. */
  readonly name: string;
  /** The module it was loaded from. */
  readonly module: string;
  /** Where it is in its lifecycle. */
  readonly state: PluginState;
  /** Why it was detached, when it was. */
  readonly error?: string;
}

class LoadedPlugin {
  state: PluginState = "starting";
  error: string | undefined;
  teardown: PluginTeardown = undefined;
  readonly abort = new AbortController();
  readonly registrations = new Set<Registration>();
  readonly tracks = new Set<TrackProducer>();
  readonly consumers = new Set<TrackConsumer>();
  readonly listeners = new Set<() => void>();
  constructor(readonly plugin: Plugin<unknown>, readonly module: string, readonly log: Logger) {}
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Runs the configured plugins against the relay's origin.
 *
 * @example
 * ```ts ignore
 * import { PluginHost } from "./host.ts";
 * await using host = new PluginHost({ origin, log, dataDir: "./.voice" });
 * await host.load({ module: "./my_plugin.ts", options: {} }, new URL("file:///etc/voice/"));
 * ```
 */
export class PluginHost implements AsyncDisposable {
  readonly #origin: Origin;
  readonly #log: Logger;
  readonly #dataDir: string;
  readonly #timeoutMs: number;
  readonly #calls: PluginCallEvents;
  readonly #plugins: LoadedPlugin[] = [];
  #closed = false;

  /** Creates a host with no plugins. */
  constructor({ origin, log, dataDir, timeoutMs = 10_000, calls }: PluginHostOptions) {
    this.#calls = calls ?? localCallEvents();
    this.#origin = origin;
    this.#log = log;
    this.#dataDir = dataDir;
    this.#timeoutMs = timeoutMs;
  }

  /** Every plugin loaded so far and its state. */
  status(): PluginStatus[] {
    return this.#plugins.map((p) => ({
      name: p.plugin.name,
      module: p.module,
      state: p.state,
      ...(p.error ? { error: p.error } : {}),
    }));
  }

  /**
   * Imports `config.module` (relative paths against `baseUrl`) and starts its default-export
   * plugin. Returns its status; a failing plugin is detached, never thrown past the host,
   * except when the module cannot be imported or is not a plugin (a configuration error).
   */
  async load(
    config: PluginSpec,
    baseUrl: URL | string = `file://${Deno.cwd()}/`,
  ): Promise<PluginStatus> {
    let mod: { default?: unknown };
    if (config.module.startsWith("builtin:")) {
      mod = await builtinPluginLoader(config.module)();
    } else {
      const specifier = /^(npm:|jsr:|https?:|file:)/.test(config.module)
        ? config.module
        : new URL(config.module, baseUrl).href;
      // `deno publish --dry-run` warns "unable to analyze dynamic import" here, rightly and
      // harmlessly: this is the operator's own module, named in the config file, unknown when
      // the package is published. The specifier is always absolute by now (a `file:` URL made
      // from a path, or `npm:`/`jsr:`/`https:`), so it resolves without the package's import
      // map, which is all the warning is about. The built-ins are static imports above.
      mod = await import(specifier);
    }
    const plugin = mod.default;
    if (!isPlugin(plugin)) {
      throw new TypeError(
        `Cannot load plugin "${config.module}": its default export is not made by definePlugin`,
      );
    }
    return await this.start(plugin, config.options ?? {}, config.module);
  }

  /** Starts an already imported plugin with `options`. */
  async start<O>(plugin: Plugin<O>, options: O, module = plugin.name): Promise<PluginStatus> {
    if (this.#closed) throw new TypeError("Cannot start plugin: the plugin host is closed");
    const loaded = new LoadedPlugin(
      plugin as Plugin<unknown>,
      module,
      this.#log.child({ plugin: plugin.name }),
    );
    this.#plugins.push(loaded);
    const ctx = this.#context(loaded);
    try {
      loaded.teardown = await withTimeout(
        Promise.resolve().then(() => plugin.setup(ctx, options)),
        this.#timeoutMs,
        `Plugin "${plugin.name}" setup`,
      );
      if (loaded.state === "starting") {
        loaded.state = "running";
        loaded.log.info("Plugin started", { version: plugin.version, module });
      }
    } catch (error) {
      await this.#detach(loaded, error);
    }
    return this.status().at(this.#plugins.indexOf(loaded))!;
  }

  #context(loaded: LoadedPlugin): PluginContext {
    const origin = this.#origin;
    const fail = (error: unknown) => void this.#detach(loaded, error);
    return {
      name: loaded.plugin.name,
      log: loaded.log,
      dataDir: this.#dataDir,
      signal: loaded.abort.signal,
      route: (pattern, handler) => {
        if (loaded.abort.signal.aborted) return;
        const registration = origin.route(pattern, (track) => {
          if (loaded.abort.signal.aborted) return track.close();
          loaded.consumers.add(track);
          track.closed.then(() => loaded.consumers.delete(track));
          try {
            const result = handler(track);
            if (result instanceof Promise) result.catch(fail);
          } catch (error) {
            fail(error);
          }
        });
        loaded.registrations.add(registration);
      },
      publishTrack: (info) => {
        if (loaded.abort.signal.aborted) {
          throw new TypeError(`Cannot publish track: plugin "${loaded.plugin.name}" is stopped`);
        }
        const track = origin.publishTrack(info);
        loaded.tracks.add(track);
        track.closed.then(() => loaded.tracks.delete(track));
        return track;
      },
      calls: {
        emit: (event) => {
          if (!loaded.abort.signal.aborted) this.#calls.emit(event);
        },
        on: (listener) => {
          if (loaded.abort.signal.aborted) return () => {};
          const stop = this.#calls.on((event) => {
            try {
              listener(event);
            } catch (error) {
              loaded.log.error("Plugin call-event listener failed", { type: event.type, error });
            }
          });
          const remove = () => {
            stop();
            loaded.listeners.delete(remove);
          };
          loaded.listeners.add(remove);
          return remove;
        },
      },
      subscribe: async (namespace, name, options) => {
        const consumer = await origin.subscribe(namespace, name, {
          ...options,
          signal: options?.signal ?? loaded.abort.signal,
        });
        loaded.consumers.add(consumer);
        return consumer;
      },
    };
  }

  /** Releases everything the plugin holds; `error` set means it failed. */
  async #detach(loaded: LoadedPlugin, error?: unknown): Promise<void> {
    if (loaded.state === "stopped" || loaded.state === "detached") return;
    loaded.state = error === undefined ? "stopped" : "detached";
    if (error !== undefined) {
      loaded.error = describe(error);
      loaded.log.error("Plugin failed and was detached", { error });
    }
    loaded.abort.abort();
    for (const r of loaded.registrations) r.close();
    for (const stop of [...loaded.listeners]) stop();
    for (const c of loaded.consumers) c.close();
    for (const t of loaded.tracks) t.close();
    const teardown = loaded.teardown;
    loaded.teardown = undefined;
    try {
      await withTimeout(
        Promise.resolve().then(() => runTeardown(teardown)),
        this.#timeoutMs,
        `Plugin "${loaded.plugin.name}" teardown`,
      );
    } catch (teardownError) {
      loaded.log.warn("Plugin teardown failed", { error: teardownError });
    }
    if (error === undefined) loaded.log.info("Plugin stopped");
  }

  /** Stops every plugin, newest first. A second close is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const loaded of [...this.#plugins].reverse()) await this.#detach(loaded);
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Call events between the plugins of one host, when no Calls service is wired in. */
function localCallEvents(): PluginCallEvents {
  const listeners = new Set<(event: PluginCallEventView) => void>();
  return {
    emit: (event) => {
      for (const listener of [...listeners]) listener(event);
    },
    on: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

async function runTeardown(teardown: PluginTeardown): Promise<void> {
  if (!teardown) return;
  if (typeof teardown === "function") return void await teardown();
  if (Symbol.asyncDispose in teardown) return void await teardown[Symbol.asyncDispose]();
  if (Symbol.dispose in teardown) teardown[Symbol.dispose]();
}
