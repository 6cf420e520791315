/**
 * The few browser media APIs the SDK uses (WebCodecs audio, Web Audio, Media Capture and
 * insertable streams), typed here and read off `globalThis`.
 *
 * Why hand-written: the project is type-checked as one program with Deno's library, and
 * pulling in `lib.dom` for these files would retype Deno's globals for every other file
 * (its streams and `TextDecoderStream` clash). These declarations cover only the members
 * used, as the W3C specs define them.
 *
 * @module
 */

/** WebCodecs `AudioData` (the members used). */
export interface AudioData {
  readonly numberOfFrames: number;
  readonly numberOfChannels: number;
  readonly sampleRate: number;
  readonly timestamp: number;
  copyTo(destination: Float32Array, options: { planeIndex: number; format?: "f32-planar" }): void;
  close(): void;
}

/** WebCodecs `EncodedAudioChunk`. */
export interface EncodedAudioChunk {
  readonly timestamp: number;
  readonly byteLength: number;
  copyTo(destination: Uint8Array): void;
}

/** WebCodecs `AudioEncoder`. */
export interface AudioEncoder {
  readonly state: "unconfigured" | "configured" | "closed";
  configure(config: {
    codec: string;
    sampleRate: number;
    numberOfChannels: number;
    bitrate?: number;
    opus?: { frameDuration?: number; complexity?: number; application?: string };
  }): void;
  encode(data: AudioData): void;
  close(): void;
}

/** WebCodecs `AudioDecoder`. */
export interface AudioDecoder {
  readonly state: "unconfigured" | "configured" | "closed";
  configure(config: { codec: string; sampleRate: number; numberOfChannels: number }): void;
  decode(chunk: EncodedAudioChunk): void;
  close(): void;
}

/** A microphone track. */
export interface MediaStreamTrack {
  /** False mutes it (the track then carries silence). */
  enabled: boolean;
  /** `"audio"`. */
  readonly kind: string;
  /** The device's name. */
  readonly label: string;
  /** The applied settings (`sampleRate`, `echoCancellation`, …). */
  getSettings(): Record<string, unknown>;
  /** Releases the device. */
  stop(): void;
}

/** A media stream (the members used). */
export interface MediaStream {
  /** Its audio tracks. */
  getAudioTracks(): MediaStreamTrack[];
}

/** Web Audio `AudioWorkletNode` (the members used). */
export interface AudioWorkletNode {
  readonly port: MessagePort;
  connect(destination: unknown): void;
  disconnect(): void;
}

/** Web Audio `AudioContext` (the members used). */
export interface AudioContext {
  /** Its rate, Hz. */
  readonly sampleRate: number;
  /** Seconds rendered so far. */
  readonly currentTime: number;
  /** Whether it renders. */
  readonly state: "suspended" | "running" | "closed";
  /** Processing latency, s. */
  readonly baseLatency: number;
  /** Output device latency, s. */
  readonly outputLatency: number;
  /** The speakers. */
  readonly destination: unknown;
  /** Where worklet modules load. */
  readonly audioWorklet: { addModule(url: string): Promise<void> };
  /** Maps context time onto the performance clock. */
  getOutputTimestamp(): { contextTime?: number; performanceTime?: number };
  /** A node playing a media stream into the graph. */
  createMediaStreamSource(stream: MediaStream): { connect(destination: unknown): void };
  /** A node whose `stream` carries what the graph renders into it. */
  createMediaStreamDestination(): { readonly stream: MediaStream };
  /** Starts rendering. */
  resume(): Promise<void>;
  /** Stops and frees it. */
  close(): Promise<void>;
}

/** The constructors, as `globalThis` has them in a browser. */
export interface WebMediaGlobals {
  AudioEncoder: new (init: {
    output: (chunk: EncodedAudioChunk) => void;
    error: (error: unknown) => void;
  }) => AudioEncoder;
  AudioDecoder: new (init: {
    output: (data: AudioData) => void;
    error: (error: unknown) => void;
  }) => AudioDecoder;
  EncodedAudioChunk: new (init: {
    type: "key" | "delta";
    timestamp: number;
    data: Uint8Array;
  }) => EncodedAudioChunk;
  AudioData: new (init: {
    format: "f32-planar";
    sampleRate: number;
    numberOfFrames: number;
    numberOfChannels: number;
    timestamp: number;
    data: Float32Array;
  }) => AudioData;
  MediaStreamTrackProcessor: new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => {
    readonly readable: ReadableStream<AudioData>;
  };
  AudioContext: new (options?: { sampleRate?: number; latencyHint?: string }) => AudioContext;
  AudioWorkletNode: new (context: AudioContext, name: string, options: {
    numberOfInputs: number;
    numberOfOutputs: number;
    outputChannelCount: number[];
    processorOptions: Record<string, number>;
  }) => AudioWorkletNode;
  navigator: {
    mediaDevices: {
      getUserMedia(constraints: { audio: Record<string, unknown> }): Promise<MediaStream>;
    };
    connection?: EventTarget;
  };
  location: { origin: string };
}

/** The browser's media globals (undefined members where the browser lacks them). */
export function webMedia(): Partial<WebMediaGlobals> & Pick<WebMediaGlobals, never> {
  return globalThis as unknown as Partial<WebMediaGlobals>;
}

/** The browser's media globals, or a `TypeError` naming what is missing. */
export function requireWebMedia<K extends keyof WebMediaGlobals>(
  what: string,
  ...names: K[]
): Pick<WebMediaGlobals, K> {
  const globals = globalThis as unknown as Partial<WebMediaGlobals>;
  const missing = names.filter((name) => globals[name] === undefined);
  if (missing.length > 0) {
    throw new TypeError(`Cannot ${what}: this browser lacks ${missing.join(", ")}`);
  }
  return globals as Pick<WebMediaGlobals, K>;
}
