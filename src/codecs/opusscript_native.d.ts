// Types for opusscript@0.1.1's Emscripten module (build/opusscript_native_wasm.js), which
// ships none. Written from its C++ bindings: src/opusscript_encoder.cpp.

/** One libopus encoder + decoder pair inside the WASM heap. */
export interface OpusScriptHandler {
  _encode(inputPtr: number, inputBytes: number, outputPtr: number, frameSize: number): number;
  _decode(inputPtr: number, inputBytes: number, outputPtr: number): number;
  _encoder_ctl(request: number, value: number): number;
  _decoder_ctl(request: number, value: number): number;
}

/** The instantiated module. */
export interface OpusScriptModule {
  readonly HEAPU8: Uint8Array;
  readonly HEAPU16: Uint16Array;
  OpusScriptHandler: {
    new (sampleRate: number, channels: number, application: number): OpusScriptHandler;
    destroy_handler(handler: OpusScriptHandler): void;
  };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _opus_strerror(status: number): number;
}

/** Instantiates the module synchronously. */
declare function createOpusScriptModule(): OpusScriptModule;
export default createOpusScriptModule;
