/**
 * Plugins: the public API plugin authors write against (`definePlugin`, `PluginContext`) and
 * the host the server runs them in.
 *
 * @example
 * ```ts
 * import { definePlugin } from "@clutchcall/voice/plugins";
 * export default definePlugin({
 *   name: "hello",
 *   setup(ctx) {
 *     ctx.log.info("hello from a plugin");
 *   },
 * });
 * ```
 *
 * @module
 */
export * from "./define.ts";
export * from "./host.ts";
export type {
  GroupConsumer,
  GroupProducer,
  MoqObject,
  NamespaceEvent,
  Origin,
  Registration,
  SubscribeOptions,
  TrackConsumer,
  TrackInfo,
  TrackProducer,
  TrackSource,
} from "../relay/model/mod.ts";
