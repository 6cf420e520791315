/**
 * Call transcripts on Deno KV (the {@linkcode KvCallStore}'s `appendTranscript` and
 * `getTranscript`), so `GET /v1/calls/{sid}/transcript` survives a restart:
 *
 * ```text
 * ["transcript", sid]                  → { first, next, chars, truncated }   (the call's bounds)
 * ["transcript_entry", sid, seq]       → TranscriptEntry                     (seq from first to next - 1)
 * ```
 *
 * Each append is one atomic commit (the entry, the meta, and the oldest entries it pushes
 * out), guarded by the meta's versionstamp.
 *
 * @module
 */
import type { StoredTranscript, TranscriptBounds, TranscriptEntry } from "./transcripts.ts";

interface Meta {
  /** Oldest kept entry. */
  readonly first: number;
  /** Next entry's sequence number. */
  readonly next: number;
  /** Characters of text kept. */
  readonly chars: number;
  /** Whether older entries were dropped. */
  readonly truncated: boolean;
}

/** Commits tried before an append gives up (only concurrent appends to one call retry). */
const MAX_ATTEMPTS = 8;

/**
 * Appends `entry` to the call's transcript, dropping the oldest beyond `bounds`.
 *
 * @throws {Error} when concurrent appends kept winning (the caller serializes per call).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { appendKvTranscript, getKvTranscript } from "./kv_transcripts.ts";
 * using kv = await Deno.openKv(":memory:");
 * const entry = { track: "uplink" as const, text: "hello", start: 0, end: 400, at: "2026-01-01T00:00:00Z" };
 * await appendKvTranscript(kv, "CA1", entry, { maxEntries: 10, maxChars: 100 });
 * assertEquals((await getKvTranscript(kv, "CA1")).finals.length, 1);
 * ```
 */
export async function appendKvTranscript(
  kv: Deno.Kv,
  sid: string,
  entry: TranscriptEntry,
  bounds: TranscriptBounds,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await kv.get<Meta>(["transcript", sid]);
    const meta = current.value ?? { first: 0, next: 0, chars: 0, truncated: false };
    const op = kv.atomic().check(current).set(["transcript_entry", sid, meta.next], entry);
    let { first, chars, truncated } = meta;
    const next = meta.next + 1;
    chars += entry.text.length;
    // The new entry fits on its own (its text is clipped to maxChars), so only older ones go.
    while (first < meta.next && (next - first > bounds.maxEntries || chars > bounds.maxChars)) {
      const oldest = await kv.get<TranscriptEntry>(["transcript_entry", sid, first]);
      chars -= oldest.value?.text.length ?? 0;
      op.delete(["transcript_entry", sid, first]);
      first++;
      truncated = true;
    }
    op.set(["transcript", sid], { first, next, chars, truncated } satisfies Meta);
    if ((await op.commit()).ok) return;
  }
  throw new Error(`Cannot append to the transcript of "${sid}": concurrent appends kept winning`);
}

/**
 * The call's kept transcript, oldest final first (none for a call nothing was transcribed on).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { getKvTranscript } from "./kv_transcripts.ts";
 * using kv = await Deno.openKv(":memory:");
 * assertEquals(await getKvTranscript(kv, "CA9"), { finals: [], truncated: false });
 * ```
 */
export async function getKvTranscript(kv: Deno.Kv, sid: string): Promise<StoredTranscript> {
  const meta = (await kv.get<Meta>(["transcript", sid])).value;
  if (!meta) return { finals: [], truncated: false };
  const finals: TranscriptEntry[] = [];
  for await (const entry of kv.list<TranscriptEntry>({ prefix: ["transcript_entry", sid] })) {
    finals.push(entry.value);
  }
  return { finals, truncated: meta.truncated };
}
