import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "@std/assert";
import {
  createLogger,
  type LoggerOptions,
  type LogLevel,
  type LogRecord,
} from "../../src/log/mod.ts";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const records: LogRecord[] = [];
  const log = createLogger({
    clock: () => T0,
    ...options,
    sink: (line, record) => {
      lines.push(line);
      records.push(record);
    },
  });
  return { log, lines, records };
}

Deno.test("logger writes one JSON line per record with fields", () => {
  const { log, lines } = capture({ level: "debug", json: true });
  log.info("Relay listening", { port: 4443, host: "127.0.0.1" });
  assertEquals(lines.length, 1);
  assert(!lines[0].includes("\n"));
  assertEquals(JSON.parse(lines[0]), {
    ts: "2030-01-01T00:00:00.000Z",
    level: "info",
    msg: "Relay listening",
    port: 4443,
    host: "127.0.0.1",
  });
  assert(lines[0].startsWith('{"ts":"2030-01-01T00:00:00.000Z","level":"info","msg":'));
});

Deno.test("logger drops records below its level without formatting them", () => {
  const { log, lines } = capture({ level: "warn", json: true });
  let touched = false;
  const fields = {
    get costly() {
      touched = true;
      return 1;
    },
  };
  log.debug("no", fields);
  log.info("no", fields);
  assertEquals(lines, []);
  assert(!touched, "filtered records must not read their fields");
  assert(!log.enabled("info"));
  assert(log.enabled("error"));
  log.warn("yes");
  log.error("yes");
  assertEquals(lines.map((l) => JSON.parse(l).level), ["warn", "error"]);
});

Deno.test("child loggers add fields and the call's fields win", () => {
  const { log, lines } = capture({ json: true, fields: { service: "voice" } });
  const child = log.child({ session: "s1", track: "a" }).child({ track: "b" });
  child.info("Joined", { track: "c", peer: 7 });
  log.info("Parent untouched");
  assertEquals(JSON.parse(lines[0]), {
    ts: "2030-01-01T00:00:00.000Z",
    level: "info",
    msg: "Joined",
    service: "voice",
    session: "s1",
    track: "c",
    peer: 7,
  });
  assertEquals(Object.keys(JSON.parse(lines[1])), ["ts", "level", "msg", "service"]);
  assertEquals(child.level, "info");
});

Deno.test("errors are serialized with name, message, stack, code and cause", () => {
  const { log, lines } = capture({ json: true });
  const cause = new RangeError("Varint too large");
  const error = Object.assign(new TypeError("Bad frame", { cause }), { code: 0x3 });
  log.error("Cannot forward object", { error });
  const parsed = JSON.parse(lines[0]);
  assertEquals(parsed.error.name, "TypeError");
  assertEquals(parsed.error.message, "Bad frame");
  assertStringIncludes(parsed.error.stack, "logger_test.ts");
  assertEquals(parsed.error.code, 3);
  assertEquals(parsed.error.cause.name, "RangeError");
  assertEquals(parsed.error.cause.message, "Varint too large");
});

Deno.test("logging never throws on cycles, bigints or reserved field names", () => {
  const { log, lines } = capture({ json: true });
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const selfCaused = new Error("Again");
  (selfCaused as { cause?: unknown }).cause = selfCaused;
  log.info("Odd values", { cyclic, big: 2n ** 64n, selfCaused, msg: "shadow", level: "x" });
  const parsed = JSON.parse(lines[0]);
  assertEquals(parsed.cyclic, { name: "loop", self: "[Circular]" });
  assertEquals(parsed.big, "18446744073709551616");
  assertEquals(parsed.selfCaused.cause, "[Circular]");
  assertEquals(parsed.msg, "Odd values");
  assertEquals(parsed.level, "info");
  assertEquals(parsed._msg, "shadow");
  assertEquals(parsed._level, "x");

  const throwing = createLogger({
    sink: () => {
      throw new Error("Disk full");
    },
  });
  throwing.error("Still fine");
});

Deno.test("readable lines carry level, message, fields and error stacks", () => {
  const { log, lines } = capture({ level: "debug", json: false });
  log.warn("Slow subscriber", { track: "voice/abc", dropped: 3, note: "two words" });
  assertEquals(
    lines[0],
    '2030-01-01T00:00:00.000Z WARN  Slow subscriber track=voice/abc dropped=3 note="two words"',
  );
  log.error("Cannot decode", { error: new SyntaxError("Truncated packet"), meta: { a: 1 } });
  const [first, ...rest] = lines[1].split("\n");
  assertEquals(
    first,
    '2030-01-01T00:00:00.000Z ERROR Cannot decode error="SyntaxError: Truncated packet" meta="{\\"a\\":1}"',
  );
  assert(rest.length > 0);
  assertMatch(rest[0], /^ {4}SyntaxError: Truncated packet$/);
  assertMatch(rest[1], /^ {4}at /);
});

Deno.test("logger records carry merged fields for custom sinks", () => {
  const { log, records } = capture({ json: true });
  log.child({ a: 1 }).info("Hello", { b: 2 });
  assertEquals(records, [{
    ts: "2030-01-01T00:00:00.000Z",
    level: "info",
    msg: "Hello",
    fields: { a: 1, b: 2 },
  }]);
});

Deno.test("unknown log levels are rejected", () => {
  assertThrows(
    () => createLogger({ level: "verbose" as LogLevel }),
    TypeError,
    'unknown level "verbose"',
  );
  assertThrows(() => createLogger({ level: "toString" as LogLevel }), TypeError);
});

Deno.test("the default sink writes JSON lines to stdout when it is not a terminal", async () => {
  const code = `
    import { createLogger } from ${
    JSON.stringify(new URL("../../src/log/mod.ts", import.meta.url).href)
  };
    const log = createLogger();
    log.info("From child", { n: 1 });
    log.debug("Hidden");
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const text = new TextDecoder().decode(out.stdout);
  assert(text.endsWith("\n"));
  const parsed = JSON.parse(text.trim());
  assertEquals([parsed.level, parsed.msg, parsed.n], ["info", "From child", 1]);
});
