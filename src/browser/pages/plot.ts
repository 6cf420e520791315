/**
 * A small live time-series plot on uPlot (the charting library from npm): a rolling window
 * of the last `points` samples of a few named series.
 *
 * @module
 */
import uPlot from "uplot";
import { document, type El } from "./dom.ts";

/** One plotted series. */
export interface SeriesSpec {
  /** Its legend label. */
  readonly label: string;
  /** Line colour. */
  readonly stroke: string;
}

/**
 * A rolling plot; call {@linkcode LivePlot.push} with one value per series.
 *
 * @example
 * ```ts ignore
 * import { LivePlot } from "./plot.ts";
 * const plot = new LivePlot(element, [{ label: "jitter ms", stroke: "red" }]);
 * setInterval(() => plot.push([Math.random() * 10]), 500);
 * ```
 */
export class LivePlot {
  /** The uPlot instance. */
  readonly chart: uPlot;
  readonly #data: number[][];
  readonly #points: number;
  /** Samples pushed so far. */
  updates = 0;

  /** Draws an empty plot into `element`. */
  constructor(
    element: El,
    series: readonly SeriesSpec[],
    { width = 360, height = 140, points = 120 } = {},
  ) {
    this.#points = points;
    this.#data = [[], ...series.map(() => [])];
    this.chart = new uPlot(
      {
        width,
        height,
        // uPlot's own legend needs its stylesheet (without it the table lands on the axis);
        // the page draws a one-line legend of its own instead.
        legend: { show: false },
        scales: { x: { time: true } },
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2 }))],
        axes: [{}, { size: 40 }],
      },
      this.#data as uPlot.AlignedData,
      element as unknown as ConstructorParameters<typeof uPlot>[2],
    );
    const legend = document.createElement("div");
    legend.className = "plot-legend";
    for (const spec of series) {
      const key = document.createElement("span");
      key.setAttribute("style", `color: ${spec.stroke}; margin-right: 1em`);
      key.textContent = `\u2014 ${spec.label}`;
      legend.append(key);
    }
    element.append(legend);
  }

  /** Appends one sample per series at now. */
  push(values: readonly number[]): void {
    this.#data[0].push(Date.now() / 1000);
    values.forEach((v, i) => this.#data[i + 1].push(Number.isFinite(v) ? v : 0));
    if (this.#data[0].length > this.#points) { for (const column of this.#data) column.shift(); }
    this.chart.setData(this.#data as uPlot.AlignedData);
    this.updates++;
  }
}
