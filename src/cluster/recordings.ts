/**
 * Recordings metadata across the cluster: the recorder plugin writes its sidecars
 * (`<data-dir>/recordings/<sid>.json`) on the node that recorded the call; this mirror copies
 * each one, as it is written, into Redis, so `GET /v1/recordings` on any node lists every
 * node's recordings (each naming its `node`). The audio files stay on the recording node.
 *
 * ```text
 * recordings    hash <sidecar name> → JSON(public metadata + node)
 * ```
 *
 * The sidecar files stay the source of truth: the mirror re-copies every local sidecar when
 * it starts (and after a lost write) and watches the folder for new ones; a node's own
 * recordings are always read from its files (their sizes measured now).
 *
 * @module
 */
import type { Redis } from "ioredis";
import { basename, join } from "node:path";
import type { Logger } from "../log/mod.ts";
import {
  listRecordings,
  publicRecording,
  readRecording,
  readSidecar,
  type RecordingMetadata,
} from "../plugins/recorder/metadata.ts";

/** A recording as the cluster lists it: its public metadata and the node holding its files. */
export type ClusterRecording = RecordingMetadata & { readonly node: string };

/** Options for {@linkcode RecordingMirror.start}. */
export interface RecordingMirrorOptions {
  /** A connected client. */
  readonly redis: Redis;
  readonly prefix: string;
  readonly nodeId: string;
  /** The recordings folder the recorder plugin writes (created when missing). */
  readonly dir: string;
  readonly log: Logger;
}

/**
 * Mirrors this node's recording sidecars into Redis and lists every node's.
 *
 * @example
 * ```ts ignore
 * import { RecordingMirror } from "./recordings.ts";
 * await using mirror = await RecordingMirror.start({ redis, prefix: "clutchcall:", nodeId: "a", dir, log });
 * console.log((await mirror.list()).map((r) => `${r.sid} on ${r.node}`));
 * ```
 */
export class RecordingMirror implements AsyncDisposable {
  readonly #o: RecordingMirrorOptions;
  readonly #watcher: Deno.FsWatcher;
  readonly #watching: Promise<void>;
  /** Sidecar copies in flight, so that close waits for them. */
  readonly #copies = new Set<Promise<void>>();
  #closed = false;

  private constructor(options: RecordingMirrorOptions, watcher: Deno.FsWatcher) {
    this.#o = options;
    this.#watcher = watcher;
    this.#watching = this.#watch();
  }

  /** Starts watching the folder, then copies every sidecar already in it. */
  static async start(options: RecordingMirrorOptions): Promise<RecordingMirror> {
    await Deno.mkdir(options.dir, { recursive: true });
    const mirror = new RecordingMirror(options, Deno.watchFs(options.dir, { recursive: false }));
    await mirror.#copyAll();
    return mirror;
  }

  /** Every node's recordings, oldest first; this node's read from its own files. */
  async list(): Promise<ClusterRecording[]> {
    const { redis, prefix, nodeId, dir, log } = this.#o;
    const local = (await listRecordings(dir)).map((meta) => this.#public(meta));
    const byName = new Map<string, ClusterRecording>();
    try {
      for (const [name, json] of Object.entries(await redis.hgetall(`${prefix}recordings`))) {
        const recording = JSON.parse(json) as ClusterRecording;
        if (recording.node !== nodeId) byName.set(name, recording);
      }
    } catch (error) {
      log.warn("Cannot list other nodes' recordings: this node's only", {
        error: (error as Error).message,
      });
    }
    for (const recording of local) byName.set(basename(recording.path, ".wav"), recording);
    return [...byName.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /** The recording of `sid` (its first), wherever it was recorded, or undefined. */
  async get(sid: string): Promise<ClusterRecording | undefined> {
    const local = await readRecording(this.#o.dir, sid);
    if (local) return this.#public(local);
    const { redis, prefix } = this.#o;
    const json = await redis.hget(`${prefix}recordings`, sid);
    return json ? JSON.parse(json) as ClusterRecording : undefined;
  }

  /** Stops watching; copies in flight finish. A second close is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.close();
    await this.#watching;
    await Promise.all(this.#copies);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #public(meta: RecordingMetadata): ClusterRecording {
    return { ...publicRecording(meta), node: this.#o.nodeId };
  }

  async #watch(): Promise<void> {
    for await (const event of this.#watcher) {
      for (const path of event.paths) {
        if (path.endsWith(".json")) this.#track(this.#copy(path));
      }
    }
  }

  async #copyAll(): Promise<void> {
    for await (const entry of Deno.readDir(this.#o.dir)) {
      if (entry.isFile && entry.name.endsWith(".json")) {
        await this.#copy(join(this.#o.dir, entry.name));
      }
    }
  }

  /** Copies one sidecar into Redis (a missing or partial one is skipped). */
  async #copy(path: string): Promise<void> {
    const { redis, prefix, log } = this.#o;
    const meta = await readSidecar(path);
    if (!meta) return;
    try {
      await redis.hset(
        `${prefix}recordings`,
        basename(path, ".json"),
        JSON.stringify(this.#public(meta)),
      );
    } catch (error) {
      log.warn("Cannot copy a recording's metadata to the cluster", {
        sid: meta.sid,
        error: (error as Error).message,
      });
    }
  }

  #track(copy: Promise<void>): void {
    this.#copies.add(copy);
    copy.finally(() => this.#copies.delete(copy));
  }
}
