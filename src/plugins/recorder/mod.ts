/**
 * The built-in call recorder: one stereo WAV per call (left = uplink, right = downlink),
 * time-aligned by capture timestamps, crash-safe, with optional untranscoded Ogg Opus
 * copies and JSON metadata the server's HTTP API serves at `/v1/recordings`.
 *
 * ```json
 * { "plugins": [{ "module": "builtin:recorder", "options": { "sampleRate": 16000, "ogg": true } }] }
 * ```
 *
 * @module
 */
export { default } from "./plugin.ts";
export * from "./options.ts";
export * from "./metadata.ts";
export { repairRecordings } from "./repair.ts";
export {
  repairWavFile,
  StreamingWavFile,
  type StreamingWavOptions,
  type WavRepair,
} from "./wav_file.ts";
export { OggOpusFile, repairOggFile } from "./ogg_opus_file.ts";
export { OggOpusStream, type OggOpusStreamOptions, opusPacketSamples } from "./ogg_opus.ts";
export {
  encodeOggPage,
  oggCrc32,
  OggFlag,
  type OggPage,
  type OggParseResult,
  oggSegmentsOf,
  parseOggPages,
} from "./ogg.ts";
