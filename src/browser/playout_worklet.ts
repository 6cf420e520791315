/**
 * The AudioWorklet processor of {@linkcode OpusPlayer}: a ring buffer of decoded samples,
 * played in 128-sample render quanta. It waits for `target` samples before it starts (and
 * again after an underrun), pads with silence when it runs dry, skips quiet quanta while it
 * holds more than `target` + 20 ms (so a burst or a fast sender clock does not leave the
 * delay high), and when more than `max` samples pile up it drops the oldest down to
 * `target` (the delay stays bounded).
 *
 * A worklet module must be loadable on its own and the SDK ships as one file, so the
 * processor is kept here as source text and loaded from a Blob URL; it is plain JavaScript
 * (no imports, no bundler transforms) for that reason.
 *
 * Messages in: `{ pcm: Float32Array }`, `{ capture: boolean }`. Messages out, every ~100 ms:
 * `{ stats: { buffered, underruns, droppedSamples, playedSamples } }`, and with capture on,
 * `{ played: Float32Array, at: <contextTime of its first sample> }`.
 *
 * @module
 */

/** The registered processor name. */
export const PLAYOUT_PROCESSOR = "clutchcall-playout";

/** The processor's source. */
export const PLAYOUT_WORKLET_SOURCE = `
class ClutchcallPlayout extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.ring = new Float32Array(o.capacity);
    this.read = 0;
    this.size = 0;
    this.target = o.target;
    this.max = o.max;
    this.slack = Math.round(sampleRate * 0.02);
    this.playing = false;
    this.underruns = 0;
    this.droppedSamples = 0;
    this.playedSamples = 0;
    this.sinceStats = 0;
    this.capture = false;
    this.captured = [];
    this.capturedAt = 0;
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m.pcm) this.push(m.pcm);
      if (m.capture !== undefined) this.capture = m.capture;
    };
  }
  push(pcm) {
    const cap = this.ring.length;
    for (let i = 0; i < pcm.length; i++) {
      if (this.size === cap) { this.read = (this.read + 1) % cap; this.size--; this.droppedSamples++; }
      this.ring[(this.read + this.size) % cap] = pcm[i];
      this.size++;
    }
    if (this.size > this.max) {
      const drop = this.size - this.target;
      this.read = (this.read + drop) % cap;
      this.size -= drop;
      this.droppedSamples += drop;
    }
  }
  process(_inputs, outputs) {
    const out = outputs[0][0];
    const n = out.length;
    if (!this.playing && this.size >= this.target) this.playing = true;
    if (this.playing) {
      const cap = this.ring.length;
      // Above the target (a burst, or a sender clock running fast): skip quiet quanta
      // until back at it, so the delay converges without cutting into speech.
      while (this.size - n >= this.target + this.slack && this.quiet(n)) {
        this.read = (this.read + n) % cap;
        this.size -= n;
        this.droppedSamples += n;
      }
      const take = Math.min(n, this.size);
      for (let i = 0; i < take; i++) out[i] = this.ring[(this.read + i) % cap];
      for (let i = take; i < n; i++) out[i] = 0;
      this.read = (this.read + take) % cap;
      this.size -= take;
      this.playedSamples += take;
      if (take < n) { this.underruns++; this.playing = false; }
    } else {
      out.fill(0);
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    if (this.capture) {
      if (this.captured.length === 0) this.capturedAt = currentTime;
      this.captured.push(out.slice());
      if (this.captured.length >= 40) this.flush();
    }
    this.sinceStats += n;
    if (this.sinceStats >= sampleRate / 10) {
      this.sinceStats = 0;
      this.port.postMessage({ stats: { buffered: this.size, underruns: this.underruns,
        droppedSamples: this.droppedSamples, playedSamples: this.playedSamples } });
    }
    return true;
  }
  quiet(n) {
    const cap = this.ring.length;
    let energy = 0;
    for (let i = 0; i < n; i++) { const v = this.ring[(this.read + i) % cap]; energy += v * v; }
    return energy / n < 1e-5;
  }
  flush() {
    const total = this.captured.reduce((s, b) => s + b.length, 0);
    const played = new Float32Array(total);
    let at = 0;
    for (const b of this.captured) { played.set(b, at); at += b.length; }
    this.port.postMessage({ played, at: this.capturedAt }, [played.buffer]);
    this.captured = [];
  }
}
registerProcessor("${"clutchcall-playout"}", ClutchcallPlayout);
`;
