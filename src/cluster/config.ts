/**
 * The `cluster` section of the server's config file: several server processes sharing one
 * control plane on Redis. Without it the server is one node on Deno KV, as always.
 *
 * ```json
 * {
 *   "cluster": {
 *     "redisUrl": "redis://10.0.0.5:6379",
 *     "nodeId": "voice-a",
 *     "advertise": { "moq": "10.0.0.11:4443", "http": "http://10.0.0.11:8080" },
 *     "leaseMs": 10000
 *   }
 * }
 * ```
 *
 * `CLUTCHCALL_REDIS_URL` and `CLUTCHCALL_NODE_ID` set (or override) `redisUrl` and `nodeId`
 * from the environment, so `CLUTCHCALL_REDIS_URL=redis://127.0.0.1:6379 deno task start`
 * starts a node without a config file.
 *
 * @module
 */
import { z } from "zod";

/** How this node is reached by the other nodes. */
export interface ClusterAdvertise {
  /** `host:port` of this node's MoQT endpoint (UDP) [the bound host and port]. */
  readonly moq?: string;
  /** Base URL of this node's HTTP API [`http://<host>:<port>` as bound]. */
  readonly http?: string;
}

/** The `cluster` section, validated. */
export interface ClusterConfig {
  /** `redis://` or `rediss://` URL of the shared Redis. */
  readonly redisUrl: string;
  /** This node's id, unique in the cluster and stable across its restarts [host name + pid]. */
  readonly nodeId: string;
  /** Where other nodes reach this one. */
  readonly advertise: ClusterAdvertise;
  /** How long this node counts as alive without renewing its lease, ms [10000]. */
  readonly leaseMs: number;
  /** Prefix of every Redis key; nodes of one cluster share it [`clutchcall:`]. */
  readonly keyPrefix: string;
}

const hostPort = z.string().regex(
  /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/,
  'must be "host:port"',
);

/**
 * The zod schema of the `cluster` section (without the environment overrides).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { clusterConfigSchema } from "./config.ts";
 * const parsed = clusterConfigSchema.safeParse({ redisUrl: "http://x" });
 * assertEquals(parsed.success, false);
 * ```
 */
export const clusterConfigSchema = z.strictObject({
  redisUrl: z.string().regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL"),
  nodeId: z.string().regex(
    /^[A-Za-z0-9._-]{1,64}$/,
    "must be 1-64 letters, digits, '.', '_' or '-'",
  ).optional(),
  advertise: z.strictObject({
    moq: hostPort.optional(),
    http: z.url({ protocol: /^https?$/ }).optional(),
  }).optional(),
  leaseMs: z.number().int().min(1000).max(300_000).optional(),
  keyPrefix: z.string().max(64).optional(),
});

/**
 * Reads the `cluster` section (`value`, undefined when the file has none) with the
 * `CLUTCHCALL_REDIS_URL` / `CLUTCHCALL_NODE_ID` environment overrides. Returns undefined when
 * neither asks for a cluster (one node on Deno KV).
 *
 * @throws {TypeError} With every problem found, one per line
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseClusterConfig } from "./config.ts";
 * const config = parseClusterConfig(undefined, { CLUTCHCALL_REDIS_URL: "redis://127.0.0.1:6379" });
 * assertEquals(config?.leaseMs, 10000);
 * assertEquals(parseClusterConfig(undefined, {}), undefined);
 * ```
 */
export function parseClusterConfig(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
): ClusterConfig | undefined {
  const redisUrl = env.CLUTCHCALL_REDIS_URL || undefined;
  const nodeId = env.CLUTCHCALL_NODE_ID || undefined;
  if (value === undefined && redisUrl === undefined) return undefined;
  const merged = {
    ...(typeof value === "object" && value !== null ? value : {}),
    ...(redisUrl ? { redisUrl } : {}),
    ...(nodeId ? { nodeId } : {}),
  };
  if (value !== undefined && (typeof value !== "object" || value === null)) {
    throw new TypeError('"cluster" must be an object');
  }
  const parsed = clusterConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new TypeError(
      parsed.error.issues.map((issue) =>
        `"cluster${issue.path.map((p) => `.${String(p)}`).join("")}": ${issue.message}`
      ).join("\n"),
    );
  }
  const config = parsed.data;
  return Object.freeze({
    redisUrl: config.redisUrl,
    nodeId: config.nodeId ?? defaultNodeId(),
    advertise: Object.freeze({ ...config.advertise }),
    leaseMs: config.leaseMs ?? 10_000,
    keyPrefix: config.keyPrefix ?? "clutchcall:",
  });
}

/** `<host name>-<pid>`: unique per process, but a restart is a new node (set `nodeId`). */
function defaultNodeId(): string {
  const host = Deno.hostname().replace(/[^A-Za-z0-9.-]/g, "-").slice(0, 48) || "node";
  return `${host}-${Deno.pid}`;
}
