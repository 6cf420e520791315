import { assertEquals } from "@std/assert";

const ROOT = new URL("../../", import.meta.url);

/** A file's code without its leading `/** … *\/` module comment (the command lives there). */
function codeOf(text: string): string {
  return text.replace(/^\/\*\*[\s\S]*?\*\/\n+/, "");
}

Deno.test("the README's code blocks are the example files, and every example is in the README", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const blocks = [...readme.matchAll(/<!-- file: (\S+) -->\n\n```ts\n([\s\S]*?)```\n/g)];
  const named = new Set<string>();
  for (const [, path, block] of blocks) {
    named.add(path);
    const file = await Deno.readTextFile(new URL(path, ROOT));
    assertEquals(block, codeOf(file), `README block for ${path} is the file`);
  }
  for await (const entry of Deno.readDir(new URL("examples/", ROOT))) {
    if (!entry.name.endsWith(".ts")) continue;
    const path = `examples/${entry.name}`;
    const text = await Deno.readTextFile(new URL(path, ROOT));
    const command = /^ \* (npx --yes deno@2\.9\.6 .+)$/m.exec(text)?.[1];
    assertEquals(typeof command, "string", `${path} shows its command at its top`);
    assertEquals(readme.includes(path), true, `${path} is in the README`);
    assertEquals(readme.includes(command!), true, `the README shows ${path}'s command`);
  }
  assertEquals(named.size >= 2, true, "the README embeds the examples");
});
