/** The espeak-ng Emscripten module as this project uses it. */
export interface ESpeakNgModule {
  readonly FS: { readFile(path: string): Uint8Array };
}
/** Runs espeak-ng's command line once in a fresh WASM instance. */
export default function ESpeakNg(options: {
  arguments: string[];
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}): Promise<ESpeakNgModule>;
