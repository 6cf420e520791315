import { assert, assertEquals } from "@std/assert";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("deno publish --dry-run succeeds and the package ships no tests, fixtures, benches, examples or scripts", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assertEquals(output.code, 0, text.slice(-3000));
  const files = [...text.matchAll(/file:\/\/(\S+) \(/g)].map(([, path]) => path.slice(ROOT.length));
  assert(files.length > 50, `the file list was read (${files.length} files)`);
  const shipped = (prefix: string) => files.filter((f) => f.startsWith(prefix));
  for (const prefix of ["tests/", "bench/", "examples/", "scripts/", ".git", "node_modules/"]) {
    assertEquals(shipped(prefix), [], `nothing under ${prefix} is published`);
  }
  for (const file of ["LICENSE", "CHANGELOG.md", "README.md", "mod.ts", "config.schema.json"]) {
    assert(files.includes(file), `${file} is published`);
  }
  // Warnings: only the two imports of operators' own modules (plugins, module agents), each
  // explained where it stands; the built-ins are static imports, analyzed and rewritten.
  const plain = text;
  assert(!/warning\[(?!unanalyzable-dynamic-import)/.test(plain), "no other kind of warning");
  const places = [
    ...plain.matchAll(/warning\[unanalyzable-dynamic-import\][^\n]*\n\s*--> (\S+):(\d+):\d+/g),
  ]
    .map(([, file, line]) => ({ file: file.slice(ROOT.length), line: Number(line) }));
  assertEquals(places.map((p) => p.file).sort(), [
    "src/agents/module_agent.ts",
    "src/plugins/host.ts",
  ]);
  for (const { file, line } of places) {
    const lines = (await Deno.readTextFile(`${ROOT}${file}`)).split("\n");
    const above = lines.slice(Math.max(0, line - 10), line).join("\n");
    assert(
      above.includes('warns "unable to analyze dynamic import" here'),
      `${file}:${line} explains it`,
    );
  }
});
