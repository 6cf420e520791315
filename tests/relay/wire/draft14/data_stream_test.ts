import { assertEquals, assertRejects } from "@std/assert";
import { MoqParseError } from "../../../../src/relay/error.ts";
import { readDataStreamHeader } from "../../../../src/relay/wire/draft14/data_stream.ts";
import { encodeFetchHeader } from "../../../../src/relay/wire/draft14/fetch_stream.ts";
import { readSubgroupHeader } from "../../../../src/relay/wire/draft14/subgroup_stream.ts";
import { readerOf } from "../_streams.ts";

Deno.test("data stream headers distinguish subgroup and fetch streams and reject unknown types", async () => {
  assertEquals(await readDataStreamHeader(readerOf(encodeFetchHeader(300))), {
    type: "fetch",
    requestId: 300,
  });
  const sub = await readDataStreamHeader(readerOf(new Uint8Array([0x1c, 1, 2, 3, 4])));
  assertEquals(sub, {
    type: "subgroup",
    header: { headerType: 0x1c, trackAlias: 1, groupId: 2, subgroupId: 3, publisherPriority: 4 },
  });
  for (const t of [0x00, 0x04, 0x16, 0x17, 0x1e, 0x1f, 0x20]) {
    await assertRejects(
      () => readDataStreamHeader(readerOf(new Uint8Array([t, 1, 2, 3]))),
      MoqParseError,
    );
  }
  await assertRejects(() => readSubgroupHeader(readerOf(encodeFetchHeader(1))), MoqParseError);
});
