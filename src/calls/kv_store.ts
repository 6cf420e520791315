/**
 * {@linkcode CallStore} on Deno KV: one file, `<data-dir>/calls.kv`, opened with
 * `Deno.openKv(path)` (needs `--unstable-kv`).
 *
 * Keys:
 *
 * ```text
 * ["call", sid]                        → Call
 * ["call_by_time", createdAtMs, sid]   → { status, direction }   (list index, newest first)
 * ["call_live", sid]                   → true                    (non-terminal calls)
 * ["idempotency", key]                 → IdempotencyRecord       (expires after a day)
 * ["client", identity]                 → ClientRegistration
 * ["transcript", sid], ["transcript_entry", sid, seq]   (see kv_transcripts.ts)
 * ```
 *
 * Every write is one `atomic()` commit guarded by versionstamp checks, so a crash leaves
 * either the old state or the new one.
 *
 * @module
 */
import type { Call, CallDirection } from "./call.ts";
import { type CallStatus, isTerminal } from "./status.ts";
import { decodeCursor as decodePosition, encodeCursor } from "./list_cursor.ts";
import { pageOfCalls } from "./list_page.ts";
import { appendKvTranscript, getKvTranscript } from "./kv_transcripts.ts";
import type { StoredTranscript, TranscriptBounds, TranscriptEntry } from "./transcripts.ts";
import type {
  CallFilter,
  CallPage,
  CallStore,
  ClientRegistration,
  IdempotencyRecord,
  VersionedCall,
  WriteResult,
} from "./store.ts";

/** How long idempotency records are kept: 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

interface IndexValue {
  readonly status: CallStatus;
  readonly direction: CallDirection;
}

/**
 * The embedded call store.
 *
 * @example
 * ```ts ignore
 * import { KvCallStore } from "./kv_store.ts";
 * await using store = await KvCallStore.open("/var/lib/voice/calls.kv");
 * const page = await store.listCalls({ status: "in_progress" }, 20);
 * ```
 */
export class KvCallStore implements CallStore {
  readonly #kv: Deno.Kv;
  #closed = false;

  private constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** Opens (or creates) the store at `path`; no path means an in-memory store. */
  static async open(path?: string): Promise<KvCallStore> {
    return new KvCallStore(await Deno.openKv(path ?? ":memory:"));
  }

  async getCall(sid: string): Promise<VersionedCall | undefined> {
    const entry = await this.#kv.get<Call>(["call", sid]);
    return entry.value && entry.versionstamp
      ? { call: entry.value, version: entry.versionstamp }
      : undefined;
  }

  async putCall(
    call: Call,
    expected: string | null,
    idempotency?: IdempotencyRecord,
  ): Promise<WriteResult> {
    const op = this.#kv.atomic().check({ key: ["call", call.sid], versionstamp: expected });
    if (idempotency) this.#idempotency(op, idempotency);
    const index: IndexValue = { status: call.status, direction: call.direction };
    op.set(["call", call.sid], call)
      .set(["call_by_time", Date.parse(call.createdAt), call.sid], index);
    if (isTerminal(call.status)) op.delete(["call_live", call.sid]);
    else op.set(["call_live", call.sid], true);
    const result = await op.commit();
    if (result.ok) return { ok: true, version: result.versionstamp };
    return await this.#conflict(idempotency);
  }

  async listCalls(filter: CallFilter, limit: number, cursor?: string): Promise<CallPage> {
    // Within a few sids: looked up directly, ordered and paged as the index is.
    if (filter.sids) {
      return pageOfCalls(await this.#calls([...new Set(filter.sids)]), filter, limit, cursor);
    }
    const prefix = ["call_by_time"];
    const start = filter.createdAfter !== undefined ? [...prefix, filter.createdAfter] : undefined;
    let end: Deno.KvKey | undefined = filter.createdBefore !== undefined
      ? [...prefix, filter.createdBefore]
      : undefined;
    if (cursor !== undefined) end = decodeCursor(cursor);
    const selector: Deno.KvListSelector = start && end
      ? { start, end }
      : start
      ? { prefix, start }
      : end
      ? { prefix, end }
      : { prefix };
    const sids: string[] = [];
    let lastKey: Deno.KvKey | undefined;
    let more = false;
    for await (const entry of this.#kv.list<IndexValue>(selector, { reverse: true })) {
      const { status, direction } = entry.value;
      if (filter.status && status !== filter.status) continue;
      if (filter.direction && direction !== filter.direction) continue;
      if (sids.length === limit) {
        more = true;
        break;
      }
      sids.push(entry.key[2] as string);
      lastKey = entry.key;
    }
    const calls = await this.#calls(sids);
    return more && lastKey
      ? {
        calls,
        nextCursor: encodeCursor({ time: lastKey[1] as number, sid: lastKey[2] as string }),
      }
      : { calls };
  }

  async probeWrite(): Promise<void> {
    // One small key, overwritten each time: a real commit that needs free space.
    await this.#kv.set(["health", "write_probe"], new Date().toISOString());
  }

  async liveCalls(): Promise<Call[]> {
    const sids: string[] = [];
    for await (const entry of this.#kv.list({ prefix: ["call_live"] })) {
      sids.push(entry.key[1] as string);
    }
    const calls: Call[] = [];
    for (const sid of sids) {
      const found = await this.getCall(sid);
      if (found) calls.push(found.call);
    }
    return calls;
  }

  async getIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
    return (await this.#kv.get<IdempotencyRecord>(["idempotency", key])).value ?? undefined;
  }

  async putIdempotency(record: IdempotencyRecord): Promise<WriteResult> {
    const op = this.#kv.atomic();
    this.#idempotency(op, record);
    const result = await op.commit();
    return result.ok ? { ok: true, version: result.versionstamp } : await this.#conflict(record);
  }

  async putClient(
    registration: ClientRegistration,
    idempotency?: IdempotencyRecord,
  ): Promise<WriteResult> {
    const op = this.#kv.atomic().set(["client", registration.identity], registration);
    if (idempotency) this.#idempotency(op, idempotency);
    const result = await op.commit();
    return result.ok
      ? { ok: true, version: result.versionstamp }
      : await this.#conflict(idempotency);
  }

  appendTranscript(sid: string, entry: TranscriptEntry, bounds: TranscriptBounds): Promise<void> {
    return appendKvTranscript(this.#kv, sid, entry, bounds);
  }

  getTranscript(sid: string): Promise<StoredTranscript> {
    return getKvTranscript(this.#kv, sid);
  }

  async getClient(identity: string): Promise<ClientRegistration | undefined> {
    return (await this.#kv.get<ClientRegistration>(["client", identity])).value ?? undefined;
  }

  async deleteClient(identity: string): Promise<void> {
    await this.#kv.delete(["client", identity]);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#kv.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** The stored calls among `sids`, in that order (missing ones left out). */
  async #calls(sids: readonly string[]): Promise<Call[]> {
    const calls: Call[] = [];
    // getMany takes at most 10 keys.
    for (let i = 0; i < sids.length; i += 10) {
      const entries = await this.#kv.getMany<Call[]>(
        sids.slice(i, i + 10).map((sid) => ["call", sid]),
      );
      for (const { value: call } of entries) if (call) calls.push(call);
    }
    return calls;
  }

  #idempotency(op: Deno.AtomicOperation, record: IdempotencyRecord): void {
    op.check({ key: ["idempotency", record.key], versionstamp: null })
      .set(["idempotency", record.key], record, { expireIn: IDEMPOTENCY_TTL_MS });
  }

  async #conflict(idempotency: IdempotencyRecord | undefined): Promise<WriteResult> {
    if (idempotency && await this.getIdempotency(idempotency.key)) {
      return { ok: false, conflict: "idempotency" };
    }
    return { ok: false, conflict: "call" };
  }
}

/** A cursor as the KV index key it stands for. */
function decodeCursor(cursor: string): Deno.KvKey {
  const { time, sid } = decodePosition(cursor);
  return ["call_by_time", time, sid];
}
