/**
 * Many nodes on one Redis: the `cluster` config section, the node lease (and the reaping of
 * lost nodes' calls), call events across nodes, forwarding call control to the node that
 * owns a call's legs, relay cascading, and recordings metadata across nodes. Only the server
 * (the composition root) uses it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseClusterConfig } from "./mod.ts";
 * assertEquals(parseClusterConfig(undefined, {}), undefined); // one node on Deno KV
 * ```
 *
 * @module
 */
export {
  type ClusterAdvertise,
  type ClusterConfig,
  clusterConfigSchema,
  parseClusterConfig,
} from "./config.ts";
export { ClusterNode, type ClusterRelay, openClusterStore } from "./runtime.ts";
export { RelayCascade, type RelayCascadeOptions, type RemoteTrack } from "./cascade.ts";
export { EventBus, type EventBusOptions } from "./event_bus.ts";
export { createForwarder, FORWARDED_HEADER, type ForwarderOptions } from "./forward.ts";
export { type NodeInfo, NodeLease, type NodeLeaseOptions } from "./node_lease.ts";
export {
  type ClusterRecording,
  RecordingMirror,
  type RecordingMirrorOptions,
} from "./recordings.ts";
