/**
 * A module agent for the ASR-text test: records every caller turn it is handed (its text
 * and times) where the test, in the same process, reads them.
 *
 * @module
 */
import { type CallerTurn, defineAgent } from "../../src/agents/mod.ts";

/** The turns handed to the agent, in order. */
export const heardTurns: CallerTurn[] = [];
const waiters = new Set<() => void>();

/** Resolves once `count` turns were handed over. */
export function turnsHeard(count: number): Promise<CallerTurn[]> {
  return new Promise((resolve) => {
    const check = () => {
      if (heardTurns.length < count) return;
      waiters.delete(check);
      resolve(heardTurns.slice(0, count));
    };
    waiters.add(check);
    check();
  });
}

export default defineAgent({
  name: "asr-listener",
  format: { codec: "g711_ulaw", sampleRate: 8000 },
  onTurn(turn) {
    heardTurns.push(turn);
    for (const waiter of [...waiters]) waiter();
  },
});
