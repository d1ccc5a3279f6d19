// Times the edge scorer on one record at a time: node benchmarks/edge_timing.mjs BUNDLE N
// < records.json; prints {"micros": [...]} (one duration per score() call, after a warm-up).
import { pathToFileURL } from 'node:url';

const [bundle, repetitions] = process.argv.slice(2);
let text = '';
for await (const chunk of process.stdin) text += chunk;
const records = JSON.parse(text);
const { EdgeModel } = await import(pathToFileURL(`${bundle}/scorer.mjs`).href);
const model = await EdgeModel.load(pathToFileURL(`${bundle}/`));
for (let i = 0; i < 200; i++) await model.score([records[i % records.length]]);
const micros = [];
for (let i = 0; i < Number(repetitions); i++) {
  const start = process.hrtime.bigint();
  await model.score([records[i % records.length]]);
  micros.push(Number(process.hrtime.bigint() - start) / 1000);
}
process.stdout.write(JSON.stringify({ micros }));
