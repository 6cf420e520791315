/**
 * The ClutchCall Voice SDK: {@linkcode Voice} (calls, clients, bridge), typed results and
 * {@linkcode VoiceApiError}. Uses `fetch` only: works in Deno and in a browser bundle.
 *
 * @example
 * ```ts ignore
 * import { Voice } from "./mod.ts";
 * const voice = new Voice({ baseUrl: "http://127.0.0.1:8080", token });
 * const call = await voice.calls.originate({ from: "+14155550100", to: "client:alice" });
 * for await (const event of voice.calls.events(call.sid)) console.log(event.type);
 * ```
 *
 * @module
 */
export * from "./voice.ts";
export * from "./error.ts";
export { readSse, type SseMessage } from "./sse.ts";
