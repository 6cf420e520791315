/**
 * The speech fixtures (copied from the project's shared `fixtures/` into `tests/fixtures/` so
 * a clean clone is self-contained; see tests/fixtures/README.md). `CLUTCHCALL_FIXTURES`
 * points elsewhere.
 *
 * @module
 */
import { decodeWav, type WavAudio } from "../../src/codecs/wav.ts";

/** The folder holding the fixture WAV files. */
export const FIXTURES: string = Deno.env.get("CLUTCHCALL_FIXTURES") ??
  new URL("../fixtures", import.meta.url).pathname;

/** The path of fixture `name` (e.g. `speech-8k.wav`). */
export function fixturePath(name: string): string {
  return `${FIXTURES}/${name}`;
}

/** Reads and decodes fixture `name`. */
export function readFixtureWav(name: string): WavAudio {
  return decodeWav(Deno.readFileSync(fixturePath(name)));
}
