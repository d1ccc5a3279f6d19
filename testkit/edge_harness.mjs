// Scores records with the edge bundle's ES module scorer, for the parity tests: reads
// {"scorer": path of scorer.mjs, "jobs": [{"dir": folder with model.onnx + rules.json,
// "records": [...]}]} on stdin and prints, per job, every record scored alone (its answer, or
// {"problems": [...]} where the rules refuse it) and the valid records scored as one batch.
import { pathToFileURL } from 'node:url';

let text = '';
for await (const chunk of process.stdin) text += chunk;
const { scorer, jobs } = JSON.parse(text);
const { EdgeModel } = await import(pathToFileURL(scorer).href);
const results = [];
for (const job of jobs) {
  const model = await EdgeModel.load(pathToFileURL(`${job.dir}/`));
  const singles = [];
  const valid = [];
  for (const record of job.records) {
    const problems = model.inputs([record]).problems[0];
    if (problems) {
      singles.push({ problems });
    } else {
      singles.push((await model.score([record]))[0]);
      valid.push(record);
    }
  }
  results.push({ singles, batch: await model.score(valid) });
}
process.stdout.write(JSON.stringify(results));
