#!/usr/bin/env node
// Score JSON lines in Node: `node dist/edge/score.mjs < records.jsonl` prints one JSON answer
// per input line, in order: the answer (as the API's, without prediction_id), or
// {"errors": ["feature: reason", ...]} for a record the domain rules refuse. Valid records are
// scored in batches of the model's max_records; exit code 0 unless the bundle fails to load.
import { createInterface } from 'node:readline';
import { EdgeModel } from './scorer.mjs';

const model = await EdgeModel.load();
const batchSize = model.bundle.max_records;

async function flush(lines) {
  const records = [];
  const out = lines.map((line, n) => {
    let record;
    try {
      record = JSON.parse(line);
    } catch {
      return { errors: ['line is not JSON'] };
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      return { errors: ['line is not a JSON object (feature -> value)'] };
    }
    const problems = model.inputs([record]).problems[0];
    if (problems) return { errors: problems };
    records.push([n, record]);
    return null;
  });
  const answers = await model.score(records.map(([, r]) => r));
  records.forEach(([n], i) => { out[n] = answers[i]; });
  process.stdout.write(out.map((a) => JSON.stringify(a)).join('\n') + (out.length ? '\n' : ''));
}

let pending = [];
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  pending.push(line);
  if (pending.length >= batchSize) {
    await flush(pending);
    pending = [];
  }
}
await flush(pending);
