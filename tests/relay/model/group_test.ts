import { assertEquals, assertRejects } from "@std/assert";
import { GroupProducer } from "../../../src/relay/model/group.ts";

const obj = (id: number) => ({ id, payload: new Uint8Array([id]) });

Deno.test("group consumers each read every object from object 0", async () => {
  const group = new GroupProducer(3);
  const early = group.consume();
  group.write(obj(0));
  group.write(obj(1));
  const late = group.consume();
  group.close();
  for (const reader of [early, late]) {
    assertEquals((await reader.readObject())?.id, 0);
    assertEquals((await reader.readObject())?.id, 1);
    assertEquals(await reader.readObject(), undefined);
  }
});

Deno.test("group reader waits for objects written later", async () => {
  const group = new GroupProducer(0);
  const reader = group.consume();
  const pending = reader.readObject();
  group.write(obj(0));
  assertEquals((await pending)?.id, 0);
});

Deno.test("aborted group rejects its readers and ignores later writes", async () => {
  const group = new GroupProducer(0);
  const reader = group.consume();
  group.abort(new Error("reset"));
  assertEquals(group.write(obj(0)), false);
  await assertRejects(() => reader.readObject(), Error, "reset");
});

Deno.test("cancelled group reader ends without affecting others", async () => {
  const group = new GroupProducer(0);
  const a = group.consume();
  const b = group.consume();
  const pending = a.readObject();
  a.cancel();
  assertEquals(await pending, undefined);
  group.write(obj(0));
  assertEquals((await b.readObject())?.id, 0);
});
