import { assert, assertEquals } from "@std/assert";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("deno publish --dry-run succeeds and the package ships no tests, fixtures, benches, examples or scripts", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
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
  for (const file of ["LICENSE", "CHANGELOG.md", "README.md", "mod.ts"]) {
    assert(files.includes(file), `${file} is published`);
  }
});
