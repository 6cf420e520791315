/**
 * A group: an ordered run of objects, written once by a {@linkcode GroupProducer} and read
 * by any number of {@linkcode GroupConsumer}s, each from object 0 at its own pace (fan-out
 * without copies: every consumer reads the same cached objects).
 *
 * @module
 */
import type { MoqObject } from "./object.ts";
import { Notify } from "./notify.ts";

class GroupState {
  readonly objects: MoqObject[] = [];
  readonly changed: Notify = new Notify();
  done = false;
  error: Error | undefined;
  constructor(readonly id: number) {}
}

/**
 * Writes the objects of one group.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { GroupProducer } from "@clutchcall/voice/relay";
 * const group = new GroupProducer(7);
 * const reader = group.consume();
 * group.write({ id: 0, payload: new Uint8Array([1]) });
 * group.close();
 * assertEquals((await reader.readObject())?.id, 0);
 * assertEquals(await reader.readObject(), undefined); // the group closed
 * ```
 */
export class GroupProducer {
  readonly #state: GroupState;

  /** Creates an empty group with id `id`. */
  constructor(id: number) {
    this.#state = new GroupState(id);
  }

  /** The group id. */
  get id(): number {
    return this.#state.id;
  }

  /** Objects written so far. */
  get length(): number {
    return this.#state.objects.length;
  }

  /** True once closed or aborted. */
  get done(): boolean {
    return this.#state.done;
  }

  /** Appends an object. Writing to a finished group is a no-op and returns false. */
  write(object: MoqObject): boolean {
    const state = this.#state;
    if (state.done) return false;
    state.objects.push(object);
    state.changed.notify();
    return true;
  }

  /** Ends the group normally. A second close is a no-op. */
  close(): void {
    this.#finish(undefined);
  }

  /** Ends the group with an error (its consumers see the error). */
  abort(error: Error): void {
    this.#finish(error);
  }

  /** A new reader starting at object 0. */
  consume(): GroupConsumer {
    return new GroupConsumer(this.#state);
  }

  #finish(error: Error | undefined): void {
    const state = this.#state;
    if (state.done) return;
    state.done = true;
    state.error = error;
    state.changed.notify();
  }
}

/**
 * Reads one group's objects in order.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { GroupProducer } from "@clutchcall/voice/relay";
 * const producer = new GroupProducer(0);
 * const consumer = producer.consume();
 * producer.write({ id: 0, payload: new Uint8Array(1) });
 * producer.write({ id: 1, payload: new Uint8Array(2) });
 * producer.close();
 * const ids = [];
 * for (let o; (o = await consumer.readObject());) ids.push(o.id);
 * assertEquals(ids, [0, 1]);
 * ```
 */
export class GroupConsumer {
  readonly #state: GroupState;
  #next = 0;
  #cancelled = false;

  /** @internal Use {@linkcode GroupProducer.consume}. */
  constructor(state: GroupState) {
    this.#state = state;
  }

  /** The group id. */
  get id(): number {
    return this.#state.id;
  }

  /**
   * The next object, or `undefined` at the end of the group (or after {@linkcode cancel}).
   * Rejects with the producer's error if the group was aborted.
   */
  async readObject(): Promise<MoqObject | undefined> {
    const state = this.#state;
    for (;;) {
      if (this.#cancelled) return undefined;
      if (this.#next < state.objects.length) return state.objects[this.#next++];
      if (state.done) {
        if (state.error) throw state.error;
        return undefined;
      }
      await state.changed.wait();
    }
  }

  /** The next object if one is already buffered, without waiting. */
  tryReadObject(): MoqObject | undefined {
    if (this.#cancelled) return undefined;
    const objects = this.#state.objects;
    return this.#next < objects.length ? objects[this.#next++] : undefined;
  }

  /** Objects written but not yet read by this consumer. */
  get buffered(): number {
    return this.#state.objects.length - this.#next;
  }

  /** True once the producer finished and this consumer has read everything. */
  get finished(): boolean {
    return this.#cancelled || (this.#state.done && this.#next >= this.#state.objects.length);
  }

  /** Stops reading: pending and later reads return `undefined`. */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#state.changed.notify();
  }
}
