// The demo page: a form built from the bundle's input rules, scored in the browser by the
// same ES module a Node service uses; nothing is sent anywhere.
import { EdgeModel, InputError } from './scorer.mjs';
import { describeFormat } from './dates.mjs';

const model = await EdgeModel.load(new URL('./', import.meta.url));
const { bundle } = model;
const fields = document.getElementById('fields');

function field(rule) {
  const label = document.createElement('label');
  label.append(rule.name);
  let input;
  if (rule.kind === 'categorical' && rule.allowed) {
    input = document.createElement('select');
    for (const value of [...(rule.nullable ? [''] : []), ...rule.allowed]) {
      input.append(new Option(value === '' ? '(missing)' : value, value));
    }
  } else {
    input = document.createElement('input');
    if (rule.kind === 'date') input.placeholder = describeFormat(rule.format ?? 'ISO8601');
    if (rule.kind === 'numeric') {
      input.inputMode = 'decimal';
      input.placeholder = [rule.minimum, rule.maximum].some((b) => b != null)
        ? `${rule.minimum ?? ''} to ${rule.maximum ?? ''}` : 'a number';
    }
  }
  input.name = rule.name;
  label.append(input);
  return label;
}

for (const rule of bundle.rules) fields.append(field(rule));
document.getElementById('status').textContent =
  `${bundle.version}: predicts ${bundle.target} (${bundle.task}) in this browser.`;
const form = document.getElementById('record');
form.hidden = false;
const answer = document.getElementById('answer');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  // Empty fields are missing values; text goes to the same rules the API applies.
  const record = Object.fromEntries(bundle.rules.map((r) => {
    const value = form.elements[r.name].value;
    return [r.name, value.trim() === '' ? null : value];
  }));
  try {
    const [scored] = await model.score([record]);
    answer.className = '';
    answer.textContent = JSON.stringify(scored, null, 2);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    answer.className = 'refused';
    answer.textContent = err.problems[0].join('\n');
  }
});
document.body.dataset.ready = 'true';
