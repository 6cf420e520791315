/**
 * Copying one track into another as its groups arrive: what a relay does when it carries a
 * track across a boundary of its own (a relay shard's link, a cascade between nodes).
 *
 * @module
 */
import type { TrackConsumer, TrackProducer } from "./track.ts";

/** Options for {@linkcode copyTrack}. */
export interface CopyTrackOptions {
  /** Called with each copied object's payload size (counters of what crossed). */
  readonly onObject?: (bytes: number) => void;
}

/**
 * Copies groups and objects from `from` into `to` as they arrive, each group on its own (a
 * late object of one group never holds up the next; group ids are kept), and ends `to` as
 * `from` ends: closed when it closed, aborted with its error when it failed. A group `from`
 * aborts is aborted in `to`. Resolves once everything is copied; rejects (after aborting
 * `to`) only when reading `from` throws.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { copyTrack, TrackProducer } from "@clutchcall/voice/relay";
 *
 * const info = { namespace: ["voice", "CA1"], name: "uplink" };
 * const source = new TrackProducer(info);
 * const copy = new TrackProducer(info);
 * const reader = copy.consume();
 * let bytes = 0;
 * const copying = copyTrack(source.consume(), copy, { onObject: (n) => bytes += n });
 * const group = source.appendGroup(7);
 * group.write({ id: 0, payload: Uint8Array.of(1, 2, 3) });
 * group.close();
 * source.close();
 * await copying;
 * const copied = await reader.nextGroup();
 * assertEquals(copied?.id, 7);
 * assertEquals((await copied?.readObject())?.payload, Uint8Array.of(1, 2, 3));
 * assertEquals([bytes, await reader.closed], [3, undefined]);
 * ```
 */
export async function copyTrack(
  from: TrackConsumer,
  to: TrackProducer,
  { onObject }: CopyTrackOptions = {},
): Promise<void> {
  const copies = new Set<Promise<void>>();
  try {
    for (;;) {
      const group = await from.nextGroup();
      if (!group) break;
      const out = to.appendGroup(group.id);
      const copy = (async () => {
        try {
          for (;;) {
            const object = group.tryReadObject() ?? await group.readObject();
            if (!object) break;
            out.write(object);
            onObject?.(object.payload.byteLength);
          }
          out.close();
        } catch (error) {
          // The source aborted this group (e.g. a reset stream): so does the copy.
          out.abort(error as Error);
        }
      })();
      copies.add(copy);
      copy.finally(() => copies.delete(copy));
    }
    await Promise.all(copies);
    const error = await from.closed;
    if (error) to.abort(error);
    else to.close();
  } catch (error) {
    to.abort(error as Error);
    throw error;
  }
}
