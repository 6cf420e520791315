/**
 * What the SIP load test (`load_test.ts`) and benches (`bench/sip_load.ts` in-process,
 * `bench/sip_ramp.ts` against the server process) share: one sipp run of many calls at a rate
 * from the loopback trunk (caller +14155550199), and the counters of its `-trace_stat` CSV and
 * its final screen.
 *
 * @module
 */
import { scenario, sipp } from "./_harness.ts";

/** Options for {@linkcode sippLoad}. */
export interface SippLoadOptions {
  /** The gateway's SIP port on 127.0.0.1. */
  readonly port: number;
  /** Calls per second. */
  readonly rate: number;
  /** Calls up at once (sipp `-l`). */
  readonly limit: number;
  /** Calls in all (sipp `-m`). */
  readonly calls: number;
  /** A scenario file under tests/sip/scenarios, or `uac` (sipp's built-in, no RTP) [uac_pcap.xml]. */
  readonly scenario?: string;
  /** With `uac`: how long each call lasts, ms [0]. */
  readonly durationMs?: number;
  /** Where sipp writes its statistics CSV [none]. */
  readonly statFile?: string;
  /** Seconds between rows of the statistics CSV [5]. */
  readonly statEverySeconds?: number;
  /** Kill sipp after this long, ms. */
  readonly timeoutMs: number;
}

/** The outcome of {@linkcode sippLoad}. */
export interface SippLoadResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** sipp's cumulative "Successful call" (NaN when it printed no summary). */
  readonly successful: number;
  /** sipp's cumulative "Failed call" (NaN when it printed no summary). */
  readonly failed: number;
}

/** Runs sipp as a UAC against `127.0.0.1:port` until its calls are done (or the timeout). */
export async function sippLoad(options: SippLoadOptions): Promise<SippLoadResult> {
  const { scenario: name = "uac_pcap.xml", durationMs = 0, statFile, statEverySeconds = 5 } =
    options;
  const result = await sipp([
    ...(name === "uac" ? ["-sn", "uac", "-d", String(durationMs)] : ["-sf", scenario(name)]),
    "-s",
    "+14155550199",
    "-i",
    "127.0.0.1",
    "-p",
    "0",
    "-mp",
    "0",
    "-r",
    String(options.rate),
    "-l",
    String(options.limit),
    "-m",
    String(options.calls),
    ...(statFile ? ["-trace_stat", "-stf", statFile, "-fd", String(statEverySeconds)] : []),
    `127.0.0.1:${options.port}`,
  ], options.timeoutMs);
  return {
    ...result,
    successful: cumulative(result.stdout, "Successful call"),
    failed: cumulative(result.stdout, "Failed call"),
  };
}

/** A cumulative counter of sipp's final screen (`name | periodic | cumulative`). */
function cumulative(stdout: string, name: string): number {
  const row = new RegExp(`${name}\\s*\\|[^|]*\\|\\s*(\\d+)`).exec(stdout);
  return row ? Number(row[1]) : NaN;
}

/**
 * The last row of sipp's `-trace_stat` CSV as numbers by column name (`Retransmissions(C)`,
 * `FailedCallRejected(C)`, …); empty when sipp wrote no statistics.
 */
export async function sippStatistics(path: string): Promise<Record<string, number>> {
  const rows = await statRows(path);
  const last = rows[rows.length - 1] ?? {};
  return Object.fromEntries(Object.entries(last).map(([name, value]) => [name, Number(value)]));
}

/**
 * The call rate sipp achieved: `calls` over the seconds from its start to the first
 * statistics row that counts them all placed (NaN without statistics). sipp falls behind its
 * `-r` when it is starved of CPU, so this is the rate the gateway was offered; the row
 * interval bounds its precision (1 s rows over a 20 s round: ±5 %).
 */
export async function sippPlacedRate(path: string, calls: number): Promise<number> {
  const epoch = (field: string) => Number(field.split("\t")[2]);
  for (const row of await statRows(path)) {
    if (Number(row["OutgoingCall(C)"]) >= calls) {
      return calls / (epoch(row["CurrentTime"]) - epoch(row["StartTime"]));
    }
  }
  return NaN;
}

async function statRows(path: string): Promise<Record<string, string>[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return []; // sipp wrote no statistics
    throw error;
  }
  const [head, ...rows] = text.trim().split("\n").map((line) => line.split(";"));
  return rows.map((row) => Object.fromEntries(head.map((name, i) => [name, row[i]])));
}

/** The non-zero `Failed*(C)` counters of {@linkcode sippStatistics}. */
export function failureCounters(stats: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stats).filter(([name, n]) => /^Failed.*\(C\)$/.test(name) && n > 0),
  );
}
