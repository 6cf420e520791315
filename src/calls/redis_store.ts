/**
 * {@linkcode CallStore} on Redis (7+, through `npm:ioredis`), for several server processes
 * sharing one control plane. Deno KV ({@linkcode KvCallStore}) stays the embedded default.
 *
 * Keys (all under a prefix, `clutchcall:` by default):
 *
 * ```text
 * call:<sid>          hash { json: Call, v: version }     (v counts writes: 1, 2, …)
 * calls_by_time       sorted set, score 0, member "<ms, 15 digits>:<sid>"  (lex order = list order)
 * call_meta           hash sid → "<status>|<direction>"   (list filters read it without the call)
 * call_live           set of sids not in a terminal status
 * idempotency:<key>   IdempotencyRecord JSON, PX 24 h
 * client:<identity>   ClientRegistration JSON
 * owner:<sid>         node id of the node that created a live call (cluster mode)
 * node_calls:<node>   set of the live sids a node owns (cluster mode)
 * transcript:<sid>    list of "<text length>|<TranscriptEntry JSON>", oldest first
 * transcript_meta:<sid> hash { chars, truncated }   (the call's transcript bounds)
 * ```

With a `nodeId` (cluster mode) the node creating a call becomes its owner in the same script
that creates it, and the script writing its terminal status frees the sid, whichever node
writes it; {@linkcode RedisCallStore.liveCalls} is then this node's live calls only (restart
reconciliation must not end other nodes' calls), and {@linkcode RedisCallStore.callsOwnedBy}
gives another node's (to end them when its lease expires).
 *
 * Every write is one Lua script, so Redis applies the version check, the call, its indexes
 * and the idempotency record as one step (the same all-or-nothing, forward-only guarantee as
 * the KV store's `atomic()` commit: a stale `expected` version writes nothing). ioredis sends
 * scripts as EVALSHA and falls back to EVAL after a Redis restart (`NOSCRIPT`).
 *
 * Failure handling is the caller's (the calls service's store guard retries refused writes
 * and reports readiness): commands fail at once while the connection is down (no offline
 * queue), and a command in flight when the connection drops is not re-sent, because its
 * outcome is unknown; the guard re-reads and retries, and the version check makes the retry
 * safe. The client reconnects on its own with a capped backoff.
 *
 * One Redis, not Redis Cluster: the scripts touch keys across hash slots.
 *
 * @module
 */
import { Redis } from "ioredis";
import type { Logger } from "../log/mod.ts";
import type { Call } from "./call.ts";
import { isTerminal } from "./status.ts";
import { IDEMPOTENCY_TTL_MS } from "./kv_store.ts";
import { decodeCursor, encodeCursor, type ListPosition } from "./list_cursor.ts";
import { pageOfCalls } from "./list_page.ts";
import type {
  CallFilter,
  CallPage,
  CallStore,
  ClientRegistration,
  IdempotencyRecord,
  VersionedCall,
  WriteResult,
} from "./store.ts";
import type { StoredTranscript, TranscriptBounds, TranscriptEntry } from "./transcripts.ts";

/** Options for {@linkcode RedisCallStore.connect}. */
export interface RedisCallStoreOptions {
  /** `redis://[user:password@]host:port[/db]`. */
  readonly url: string;
  /** Prefix of every key [`clutchcall:`]; nodes of one cluster must share it. */
  readonly prefix?: string;
  /** How long to wait for the first connection, ms [5000]. */
  readonly connectTimeoutMs?: number;
  /** Where connection losses and recoveries are logged. */
  readonly log?: Logger;
  /** This node's id (cluster mode): calls it creates are owned by it (see the module doc). */
  readonly nodeId?: string;
}

/** Width of the zero-padded creation time in an index member (ms, good to year 33658). */
const TIME_DIGITS = 15;

/**
 * KEYS: call, calls_by_time, call_meta, call_live, idempotency (or a placeholder), owner.
 * ARGV: expected version ('' = must not exist), call JSON, index member, sid,
 *       "status|direction", terminal ('1'/'0'), idempotency JSON ('' = none), TTL ms,
 *       node id ('' = no ownership), key prefix.
 * Returns {1, version} or {0, 'call' | 'idempotency'}.
 */
const PUT_CALL = `
if ARGV[7] ~= '' and redis.call('EXISTS', KEYS[5]) == 1 then return {0, 'idempotency'} end
local v = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '' then
  if v then return {0, 'call'} end
elseif v ~= ARGV[1] then
  return {0, 'call'}
end
local nv = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 'json', ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
if ARGV[6] == '1' then redis.call('SREM', KEYS[4], ARGV[4]) else redis.call('SADD', KEYS[4], ARGV[4]) end
if ARGV[7] ~= '' then redis.call('SET', KEYS[5], ARGV[7], 'PX', ARGV[8]) end
if ARGV[6] == '1' then
  local owner = redis.call('GET', KEYS[6])
  if owner then
    redis.call('SREM', ARGV[10] .. 'node_calls:' .. owner, ARGV[4])
    redis.call('DEL', KEYS[6])
  end
elseif ARGV[1] == '' and ARGV[9] ~= '' then
  redis.call('SET', KEYS[6], ARGV[9])
  redis.call('SADD', ARGV[10] .. 'node_calls:' .. ARGV[9], ARGV[4])
end
return {1, tostring(nv)}
`;

/**
 * KEYS: the key to set, idempotency (or a placeholder).
 * ARGV: value JSON, idempotency JSON ('' = none), TTL ms.
 * Sets the key (a client registration or, with an empty key, nothing) unless the
 * idempotency key is taken. Returns {1} or {0, 'idempotency'}.
 */
const PUT_WITH_IDEMPOTENCY = `
if ARGV[2] ~= '' then
  if redis.call('EXISTS', KEYS[2]) == 1 then return {0, 'idempotency'} end
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
if ARGV[1] ~= '' then redis.call('SET', KEYS[1], ARGV[1]) end
return {1}
`;

/**
 * KEYS: calls_by_time, call_meta. ARGV: lex max, lex min, status ('' any), direction ('' any),
 * limit. Walks the index newest first and returns {members, more}: up to `limit` members
 * matching the filters, and 1 when another match follows.
 */
const LIST_CALLS = `
local out = {}
local limit = tonumber(ARGV[5])
local offset = 0
while true do
  local members = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', offset, 256)
  if #members == 0 then return {out, 0} end
  for _, m in ipairs(members) do
    local sid = string.sub(m, ${TIME_DIGITS + 2})
    local meta = redis.call('HGET', KEYS[2], sid) or '|'
    local status, direction = string.match(meta, '^([^|]*)|(.*)$')
    if (ARGV[3] == '' or ARGV[3] == status) and (ARGV[4] == '' or ARGV[4] == direction) then
      if #out == limit then return {out, 1} end
      out[#out + 1] = m
    end
  end
  offset = offset + #members
end
`;

/**
 * KEYS: transcript list, transcript meta. ARGV: "<length>|<entry JSON>", the text length,
 * maxEntries, maxChars. Appends, then drops the oldest entries beyond the bounds (never the
 * new one: its text is clipped to maxChars by the caller), as the KV store does.
 */
const APPEND_TRANSCRIPT = `
redis.call("RPUSH", KEYS[1], ARGV[1])
local chars = redis.call("HINCRBY", KEYS[2], "chars", tonumber(ARGV[2]))
local n = redis.call("LLEN", KEYS[1])
local maxEntries = tonumber(ARGV[3])
local maxChars = tonumber(ARGV[4])
while n > 1 and (n > maxEntries or chars > maxChars) do
  local oldest = redis.call("LPOP", KEYS[1])
  chars = redis.call("HINCRBY", KEYS[2], "chars", -tonumber(string.match(oldest, "^(%d+)|")))
  redis.call("HSET", KEYS[2], "truncated", "1")
  n = n - 1
end
return n
`;

/** The scripts, as ioredis defines them on the client (EVALSHA with EVAL fallback). */
interface ScriptCommands {
  ccAppendTranscript(...args: (string | number)[]): Promise<number>;
  ccPutCall(...args: (string | number)[]): Promise<[number, string]>;
  ccPutWithIdempotency(...args: (string | number)[]): Promise<[number, string?]>;
  ccListCalls(...args: (string | number)[]): Promise<[string[], number]>;
}

/**
 * The networked call store.
 *
 * @example
 * ```ts ignore
 * import { RedisCallStore } from "./redis_store.ts";
 * await using store = await RedisCallStore.connect({ url: "redis://127.0.0.1:6379" });
 * const page = await store.listCalls({ status: "in_progress" }, 20);
 * ```
 */
export class RedisCallStore implements CallStore {
  readonly #redis: Redis & ScriptCommands;
  readonly #prefix: string;
  readonly #nodeId: string;
  #closed = false;

  private constructor(redis: Redis, prefix: string, nodeId: string) {
    redis.defineCommand("ccPutCall", { numberOfKeys: 6, lua: PUT_CALL });
    redis.defineCommand("ccPutWithIdempotency", { numberOfKeys: 2, lua: PUT_WITH_IDEMPOTENCY });
    redis.defineCommand("ccListCalls", { numberOfKeys: 2, lua: LIST_CALLS });
    redis.defineCommand("ccAppendTranscript", { numberOfKeys: 2, lua: APPEND_TRANSCRIPT });
    this.#redis = redis as Redis & ScriptCommands;
    this.#prefix = prefix;
    this.#nodeId = nodeId;
  }

  /**
   * Connects to `options.url`; rejects when Redis cannot be reached within the timeout.
   * After that, a lost connection is re-established in the background.
   */
  static async connect(options: RedisCallStoreOptions): Promise<RedisCallStore> {
    const redis = redisClient(options.url, options.log);
    await connectOrThrow(redis, options.connectTimeoutMs ?? 5000);
    return new RedisCallStore(redis, options.prefix ?? "clutchcall:", options.nodeId ?? "");
  }

  async getCall(sid: string): Promise<VersionedCall | undefined> {
    const [json, version] = await this.#redis.hmget(this.#key(`call:${sid}`), "json", "v");
    return json && version ? { call: JSON.parse(json) as Call, version } : undefined;
  }

  async putCall(
    call: Call,
    expected: string | null,
    idempotency?: IdempotencyRecord,
  ): Promise<WriteResult> {
    const [ok, detail] = await this.#redis.ccPutCall(
      this.#key(`call:${call.sid}`),
      this.#key("calls_by_time"),
      this.#key("call_meta"),
      this.#key("call_live"),
      this.#key(idempotency ? `idempotency:${idempotency.key}` : "idempotency:"),
      this.#key(`owner:${call.sid}`),
      expected ?? "",
      JSON.stringify(call),
      indexMember({ time: Date.parse(call.createdAt), sid: call.sid }),
      call.sid,
      `${call.status}|${call.direction}`,
      isTerminal(call.status) ? "1" : "0",
      idempotency ? JSON.stringify(idempotency) : "",
      IDEMPOTENCY_TTL_MS,
      this.#nodeId,
      this.#prefix,
    );
    if (ok === 1) return { ok: true, version: detail };
    return { ok: false, conflict: detail === "idempotency" ? "idempotency" : "call" };
  }

  async listCalls(filter: CallFilter, limit: number, cursor?: string): Promise<CallPage> {
    // Within a few sids: looked up directly, ordered and paged as the index is.
    if (filter.sids) {
      return pageOfCalls(await this.#calls([...new Set(filter.sids)]), filter, limit, cursor);
    }
    const max = cursor !== undefined
      ? `(${indexMember(decodeCursor(cursor))}`
      : filter.createdBefore !== undefined
      ? `(${pad(filter.createdBefore)}`
      : "+";
    const min = filter.createdAfter !== undefined ? `[${pad(filter.createdAfter)}` : "-";
    const [members, more] = await this.#redis.ccListCalls(
      this.#key("calls_by_time"),
      this.#key("call_meta"),
      max,
      min,
      filter.status ?? "",
      filter.direction ?? "",
      limit,
    );
    const calls = await this.#calls(members.map((m) => parseMember(m).sid));
    const last = members.at(-1);
    return more === 1 && last ? { calls, nextCursor: encodeCursor(parseMember(last)) } : { calls };
  }

  /** Every call not in a terminal status; in cluster mode, only this node's. */
  async liveCalls(): Promise<Call[]> {
    if (this.#nodeId) return await this.callsOwnedBy(this.#nodeId);
    return await this.#calls(await this.#redis.smembers(this.#key("call_live")));
  }

  /** The live calls `nodeId` owns (cluster mode). */
  async callsOwnedBy(nodeId: string): Promise<Call[]> {
    const sids = await this.#redis.sinter(
      this.#key("call_live"),
      this.#key(`node_calls:${nodeId}`),
    );
    return await this.#calls(sids);
  }

  /** The node owning a live call, or undefined (ended, unknown, or not in cluster mode). */
  async ownerOf(sid: string): Promise<string | undefined> {
    return await this.#redis.get(this.#key(`owner:${sid}`)) ?? undefined;
  }

  async getIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
    const json = await this.#redis.get(this.#key(`idempotency:${key}`));
    return json ? JSON.parse(json) as IdempotencyRecord : undefined;
  }

  async putIdempotency(record: IdempotencyRecord): Promise<WriteResult> {
    return await this.#putWithIdempotency("", "", record);
  }

  async putClient(
    registration: ClientRegistration,
    idempotency?: IdempotencyRecord,
  ): Promise<WriteResult> {
    return await this.#putWithIdempotency(
      this.#key(`client:${registration.identity}`),
      JSON.stringify(registration),
      idempotency,
    );
  }

  async getClient(identity: string): Promise<ClientRegistration | undefined> {
    const json = await this.#redis.get(this.#key(`client:${identity}`));
    return json ? JSON.parse(json) as ClientRegistration : undefined;
  }

  async deleteClient(identity: string): Promise<void> {
    await this.#redis.del(this.#key(`client:${identity}`));
  }

  /** Appends a final to the call's transcript, dropping the oldest beyond `bounds` (one script). */
  async appendTranscript(
    sid: string,
    entry: TranscriptEntry,
    bounds: TranscriptBounds,
  ): Promise<void> {
    await this.#redis.ccAppendTranscript(
      this.#key(`transcript:${sid}`),
      this.#key(`transcript_meta:${sid}`),
      `${entry.text.length}|${JSON.stringify(entry)}`,
      entry.text.length,
      bounds.maxEntries,
      bounds.maxChars,
    );
  }

  /** The call's kept transcript, oldest final first (none when nothing was transcribed). */
  async getTranscript(sid: string): Promise<StoredTranscript> {
    const [items, truncated] = await Promise.all([
      this.#redis.lrange(this.#key(`transcript:${sid}`), 0, -1),
      this.#redis.hget(this.#key(`transcript_meta:${sid}`), "truncated"),
    ]);
    const finals = items.map((item) => JSON.parse(item.slice(item.indexOf("|") + 1)));
    return { finals, truncated: truncated === "1" };
  }

  async probeWrite(): Promise<void> {
    await this.#redis.set(this.#key("health:write_probe"), new Date().toISOString());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#redis.disconnect();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  async #putWithIdempotency(
    key: string,
    value: string,
    idempotency: IdempotencyRecord | undefined,
  ): Promise<WriteResult> {
    const [ok] = await this.#redis.ccPutWithIdempotency(
      key || this.#key("client:"),
      this.#key(idempotency ? `idempotency:${idempotency.key}` : "idempotency:"),
      value,
      idempotency ? JSON.stringify(idempotency) : "",
      IDEMPOTENCY_TTL_MS,
    );
    // There is no version for a client or a bare record: the write's own count stands in.
    return ok === 1 ? { ok: true, version: "1" } : { ok: false, conflict: "idempotency" };
  }

  /** The stored calls among `sids`, in that order (missing ones left out), one round trip. */
  async #calls(sids: readonly string[]): Promise<Call[]> {
    if (sids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const sid of sids) pipeline.hget(this.#key(`call:${sid}`), "json");
    const results = await pipeline.exec() ?? [];
    const calls: Call[] = [];
    for (const [error, json] of results) {
      if (error) throw error;
      if (typeof json === "string") calls.push(JSON.parse(json) as Call);
    }
    return calls;
  }

  #key(name: string): string {
    return this.#prefix + name;
  }
}

/**
 * An ioredis client as the cluster uses it: fails commands at once while disconnected (the
 * callers retry and report readiness), never re-sends a command whose outcome is unknown,
 * reconnects with a backoff capped at one second.
 *
 * @example
 * ```ts ignore
 * import { redisClient } from "./redis_store.ts";
 * const redis = redisClient("redis://127.0.0.1:6379");
 * ```
 */
export function redisClient(url: string, log?: Logger): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
  });
  // ioredis emits "error" on every failed (re)connection attempt; one line per outage.
  let up = false;
  redis.on("ready", () => {
    if (!up) log?.info("Connected to Redis", { url: redactUrl(url) });
    up = true;
  });
  redis.on("error", (error: Error) => {
    if (up) log?.warn("Lost the Redis connection; reconnecting", { error: error.message });
    up = false;
  });
  return redis;
}

/** `url` without its password, for logs. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch (error) {
    return `(unparsable Redis URL: ${(error as Error).message})`;
  }
}

/**
 * Connects `redis` (made with `lazyConnect`) within `timeoutMs`, or disconnects it and
 * rejects with a one-line reason.
 */
export async function connectOrThrow(redis: Redis, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`No answer from Redis within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    redis.disconnect();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function pad(ms: number): string {
  return String(Math.max(0, Math.floor(ms))).padStart(TIME_DIGITS, "0");
}

function indexMember(position: ListPosition): string {
  return `${pad(position.time)}:${position.sid}`;
}

function parseMember(member: string): ListPosition {
  return { time: Number(member.slice(0, TIME_DIGITS)), sid: member.slice(TIME_DIGITS + 1) };
}
