/**
 * Where agents' own recordings go (a Fonoster app's `record` verb): the runtime's port to a
 * crash-safe WAV writer. `src/agents` and `src/plugins` stand on the same floor and import
 * nothing of each other; the composition root hands the recorder's `StreamingWavFile` in
 * as {@linkcode AgentRecordings.create}, and TypeScript checks there that it fits.
 *
 * @module
 */

/**
 * A WAV file open for appending. An implementation MUST keep the file valid after every
 * append (sizes in the header rewritten) and MUST make a second close a no-op.
 */
export interface RecordingWriter {
  /** Appends interleaved PCM16 samples. */
  append(samples: Int16Array): Promise<void>;
  /** Bytes of audio written so far (the `data` chunk). */
  readonly dataBytes: number;
  /** Writes what is pending and closes the file. */
  close(): Promise<void>;
}

/** The recordings directory and how a WAV in it is made. */
export interface AgentRecordings {
  /** Absolute directory the recordings are written to (made when first needed). */
  readonly dir: string;
  /** Creates the WAV at `path` (the recorder's `StreamingWavFile.create`). */
  create(
    path: string,
    options: { readonly sampleRate: number; readonly channels: number },
  ): Promise<RecordingWriter>;
}

/** A recording an agent opened: its file and its writer. */
export interface OpenRecording {
  /** Absolute path of the WAV. */
  readonly path: string;
  readonly writer: RecordingWriter;
}

/** URL-safe letters of a recording name, as nanoid's alphabet. */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/**
 * A fresh recording name: 10 random URL-safe letters, as Fonoster names one (`nanoid(10)`).
 *
 * @example
 * ```ts
 * import { assertMatch } from "@std/assert";
 * import { recordingName } from "./recordings_port.ts";
 * assertMatch(recordingName(), /^[A-Za-z0-9_-]{10}$/);
 * ```
 */
export function recordingName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  let name = "";
  for (const byte of bytes) name += ALPHABET[byte & 63];
  return name;
}

/**
 * Opens `<dir>/<name>.wav` (mono, `sampleRate`), making the directory; rejects with a
 * `TypeError` for a name that is not a plain file name.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { openRecording } from "./recordings_port.ts";
 * const dir = await Deno.makeTempDir();
 * const written: Int16Array[] = [];
 * const recordings = {
 *   dir,
 *   create: (_path: string) =>
 *     Promise.resolve({
 *       append: (s: Int16Array) => Promise.resolve(void written.push(s)),
 *       dataBytes: 0,
 *       close: () => Promise.resolve(),
 *     }),
 * };
 * const { path } = await openRecording(recordings, "abc", 8000);
 * assertEquals(path, `${dir}/abc.wav`);
 * ```
 */
export async function openRecording(
  recordings: AgentRecordings,
  name: string,
  sampleRate: number,
): Promise<OpenRecording> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw new TypeError(`Cannot record: "${name.slice(0, 80)}" is not a recording name`);
  }
  await Deno.mkdir(recordings.dir, { recursive: true });
  const path = `${recordings.dir.replace(/\/$/, "")}/${name}.wav`;
  return { path, writer: await recordings.create(path, { sampleRate, channels: 1 }) };
}
