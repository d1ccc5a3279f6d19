// The edge scorer: the packaged model (model.onnx + rules.json beside this file) on
// onnxruntime-web's plain WASM build, in a browser or in Node, answering as the Python
// runtime (tabml.scoring.model.PackagedModel.score) does: same feeds, same answer shape.
import * as ort from './ort.wasm.bundle.min.mjs';
import { rangeWarnings, readInputs } from './inputs.mjs';

export { readInputs, rangeWarnings };

const WASM_FILE = 'ort-wasm-simd-threaded.wasm';
const RULES_FORMAT = 1; // tabml.packaging.edge_bundle.RULES_FORMAT
const IN_NODE = typeof process !== 'undefined' && Boolean(process.versions?.node);

/** Records that break the domain rules (the message names the first five, as Python's). */
export class InputError extends Error {
  constructor(problems) {
    const rows = Object.keys(problems).map(Number).sort((a, b) => a - b);
    const shownRows = rows.slice(0, 5).map((i) => `row ${i}: ${problems[i].join(', ')}`).join('; ');
    const more = rows.length > 5 ? ` (and ${rows.length - 5} more rows)` : '';
    super(`${rows.length} invalid rows: ${shownRows}${more}`);
    this.problems = problems;
  }
}

async function fetchBytes(url) {
  if (IN_NODE && url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export class EdgeModel {
  constructor(session, bundle) {
    this.session = session;
    this.bundle = bundle;
  }

  /** The bundle in folder `base` (a URL; default: this module's folder). */
  static async load(base = new URL('./', import.meta.url)) {
    ort.env.wasm.numThreads = 1; // no SharedArrayBuffer needed; one record is microseconds of work
    // The binary (beside this module) is handed over read: the same code path in Node and in
    // a browser, and its JavaScript loader is the one bundled in ort.wasm.bundle.min.mjs.
    ort.env.wasm.wasmBinary ??= await fetchBytes(new URL(WASM_FILE, import.meta.url));
    const bundle = JSON.parse(new TextDecoder().decode(await fetchBytes(new URL('rules.json', base))));
    if (bundle.format !== RULES_FORMAT) {
      throw new Error(`rules.json format ${bundle.format}: this scorer reads ${RULES_FORMAT} (run make edge)`);
    }
    const session = await ort.InferenceSession.create(await fetchBytes(new URL('model.onnx', base)), {
      executionProviders: ['wasm'],
    });
    return new EdgeModel(session, bundle);
  }

  /** Normalised inputs and problems of `records` (see inputs.mjs). */
  inputs(records) {
    return readInputs(this.bundle, records);
  }

  /** The ONNX tensors of valid `inputs`, every row `times` times in a row. */
  feeds(inputs, times) {
    const feeds = {};
    const rows = inputs.rows * times;
    for (const [name, onnx] of this.bundle.onnx_inputs) {
      if (name in inputs.numbers) {
        const values = new Float32Array(rows);
        inputs.numbers[name].forEach((v, i) => values.fill(v, i * times, (i + 1) * times));
        feeds[onnx] = new ort.Tensor('float32', values, [rows, 1]);
      } else {
        const texts = inputs.texts[name].flatMap((v) => Array(times).fill(v));
        feeds[onnx] = new ort.Tensor('string', texts, [rows, 1]);
      }
    }
    return feeds;
  }

  /** The task's answers for valid `inputs` (a single row is scored doubled, as in Python). */
  async predict(inputs) {
    const times = inputs.rows === 1 ? 2 : 1;
    const results = await this.session.run(this.feeds(inputs, times), this.bundle.outputs);
    const { task, target, classes, interval } = this.bundle;
    const answers = [];
    if (task === 'classification') {
      const labels = results.label.data;
      const proba = results.probabilities.data;
      const k = classes.length;
      for (let i = 0; i < inputs.rows; i++) {
        const probabilities = {};
        classes.forEach((c, j) => { probabilities[c] = proba[i * times * k + j]; });
        answers.push({ [target]: String(labels[i * times]), probabilities });
      }
    } else {
      const values = results[this.bundle.outputs[0]].data;
      for (let i = 0; i < inputs.rows; i++) {
        const value = values[i * times];
        answers.push({ [target]: value, interval: [value - interval.half_width, value + interval.half_width] });
      }
    }
    return answers;
  }

  /** One answer per record (the task's fields and `warnings`); InputError if any is invalid. */
  async score(records) {
    const inputs = this.inputs(records);
    if (Object.keys(inputs.problems).length) throw new InputError(inputs.problems);
    if (inputs.rows === 0) return [];
    const answers = await this.predict(inputs);
    const warnings = rangeWarnings(this.bundle, inputs);
    return answers.map((answer, i) => ({ ...answer, warnings: warnings[i] }));
  }
}
