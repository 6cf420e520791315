/**
 * The subset of `@std/assert` the tests use, on top of `node:assert/strict`.
 *
 * JSR is unreachable on the machines this project is built on, so `deno.json` maps the
 * `@std/assert` name here; where JSR is reachable the map can point at `jsr:@std/assert`
 * and no test changes.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Asserts that `actual` is truthy. */
export function assert(actual: unknown, msg?: string): asserts actual {
  nodeAssert.ok(actual, msg);
}

/** Asserts deep equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Asserts deep inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

/** Asserts strict (`Object.is`) equality. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  nodeAssert.strictEqual(actual, expected, msg);
}

/** Asserts that `actual` is neither `null` nor `undefined`. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === null || actual === undefined) {
    throw new nodeAssert.AssertionError({ message: msg ?? `Expected a value, got ${actual}` });
  }
}

/** Asserts `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual > expected)) fail(msg ?? `Expected ${actual} > ${expected}`);
}

/** Asserts `actual >= expected`. */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual >= expected)) fail(msg ?? `Expected ${actual} >= ${expected}`);
}

/** Asserts `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual < expected)) fail(msg ?? `Expected ${actual} < ${expected}`);
}

/** Asserts `actual <= expected`. */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual <= expected)) fail(msg ?? `Expected ${actual} <= ${expected}`);
}

/** Asserts `|actual - expected| <= tolerance`. */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance = 1e-7,
  msg?: string,
): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    fail(msg ?? `Expected ${actual} to be within ${tolerance} of ${expected}`);
  }
}

/** Asserts that `actual` contains `expected` as a substring. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) fail(msg ?? `Expected "${actual}" to include "${expected}"`);
}

/** Asserts that `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  nodeAssert.match(actual, expected, msg);
}

/** Asserts that `value` is an instance of `type`. */
export function assertInstanceOf<T extends abstract new (...args: never[]) => unknown>(
  value: unknown,
  type: T,
  msg?: string,
): asserts value is InstanceType<T> {
  if (!(value instanceof type)) {
    fail(msg ?? `Expected an instance of ${type.name}, got ${String(value)}`);
  }
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** Asserts that `fn` throws, optionally an instance of `ErrorClass`; returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (error) {
    checkError(error, ErrorClass, msgIncludes);
    return error as E;
  }
  fail("Expected function to throw");
}

/** Asserts that the promise returned by `fn` rejects; returns the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    checkError(error, ErrorClass, msgIncludes);
    return error as E;
  }
  fail("Expected function to reject");
}

/** Throws an assertion error. */
export function fail(msg?: string): never {
  throw new nodeAssert.AssertionError({ message: msg ?? "Failed assertion" });
}

function checkError<E extends Error>(
  error: unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
): void {
  if (ErrorClass && !(error instanceof ErrorClass)) {
    fail(`Expected error to be an instance of ${ErrorClass.name}, got ${String(error)}`);
  }
  if (msgIncludes && !(error instanceof Error && error.message.includes(msgIncludes))) {
    fail(`Expected error message to include "${msgIncludes}", got ${String(error)}`);
  }
}
