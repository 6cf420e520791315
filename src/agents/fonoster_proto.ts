/**
 * The gRPC interface of a Fonoster Voice Application: service `fonoster.voice.v1beta2.Voice`,
 * one bidirectional `CreateSession` stream (`VoiceInStream` from the media side,
 * `VoiceOutStream` from the application), loaded from `fonoster/voice.proto` with the
 * options `@fonoster/common` loads it with (camelCase fields, enums as names, oneofs named by
 * `content`), so both ends see the same message shapes.
 *
 * The `.proto` is a copy of `dist/protos/voice.proto` of npm `@fonoster/common@0.18.2` (MIT),
 * byte for byte below its two-line origin header (a test checks it against the package).
 * Vendored rather than read from that package: `@fonoster/common` depends on `twilio`,
 * `nodemailer`, `@influxdata/influxdb-client`, `handlebars` and `jsonwebtoken`, which the
 * server would install for one interface file. It is parsed from text (protobufjs) so it
 * loads from a published package (an `https:` module URL) as from a checkout.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import protobuf from "protobufjs";

/** Where the vendored interface file is. */
export const VOICE_PROTO_URL: URL = new URL("./fonoster/voice.proto", import.meta.url);

/** The `Voice` service's client class (a `@grpc/grpc-js` generated client). */
export type VoiceClientConstructor = grpc.ServiceClientConstructor;

let loading: Promise<VoiceClientConstructor> | undefined;

/**
 * The `Voice` service's client class, loaded once.
 *
 * @throws {Error} when the interface file cannot be read or parsed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { voiceClientClass } from "./fonoster_proto.ts";
 * const Voice = await voiceClientClass();
 * assertEquals(Voice.serviceName, "Voice");
 * ```
 */
export function voiceClientClass(): Promise<VoiceClientConstructor> {
  return loading ??= load().catch((error) => {
    loading = undefined;
    throw error;
  });
}

async function load(): Promise<VoiceClientConstructor> {
  const response = await fetch(VOICE_PROTO_URL);
  if (!response.ok) {
    throw new Error(`Cannot read ${VOICE_PROTO_URL.href}: HTTP ${response.status}`);
  }
  const root = new protobuf.Root();
  // The well-known google.protobuf.Struct (SayRequest.options) ships with protobufjs.
  root.addJSON(protobuf.common.get("google/protobuf/struct.proto")!.nested!);
  protobuf.parse(await response.text(), root, { keepCase: false });
  const definition = fromJSON(root.toJSON(), {
    longs: String,
    enums: String,
    defaults: false,
    arrays: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    fonoster: { voice: { v1beta2: { Voice: VoiceClientConstructor } } };
  };
  return loaded.fonoster.voice.v1beta2.Voice;
}
