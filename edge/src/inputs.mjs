// The one input path, as tabml.scoring.inputs: records -> checked, normalised model inputs,
// the reasons each invalid record breaks a rule, and the range warnings of the valid ones.
import { InvalidValue, booleanSpelling, category, number, pyFloat, pyRepr, shown } from './values.mjs';
import { ISO8601, PARTS, parseDate, partColumn } from './dates.mjs';

// A feature absent from a record: refused, as the API refuses it (the Python runtime reads
// records the API has checked). A missing value is sent as null.
const ABSENT = Symbol('absent');
export const ABSENT_REASON = 'missing field (send null for a missing value)';

function numericValue(value, rule, reasons) {
  if (value === ABSENT) return NaN;
  let found;
  try {
    found = number(value);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    reasons.push(`${rule.name}: ${err.message}`);
    return NaN;
  }
  if (Number.isNaN(found)) {
    if (!rule.nullable) reasons.push(`${rule.name}: missing value (not nullable)`);
  } else if (rule.minimum != null && found < rule.minimum) {
    reasons.push(`${rule.name}: ${pyFloat(found)} < minimum ${pyFloat(rule.minimum)}`);
  } else if (rule.maximum != null && found > rule.maximum) {
    reasons.push(`${rule.name}: ${pyFloat(found)} > maximum ${pyFloat(rule.maximum)}`);
  }
  return found;
}

function categoryValue(value, rule, reasons) {
  if (value === ABSENT) return null;
  let text;
  try {
    text = category(value, booleanSpelling(rule.allowed));
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    reasons.push(`${rule.name}: ${err.message}`);
    return null;
  }
  if (text === null) {
    if (!rule.nullable) reasons.push(`${rule.name}: missing value (not nullable)`);
  } else if (rule.allowed != null && !rule.allowed.includes(text)) {
    reasons.push(`${rule.name}: ${shown(text)} is not one of ${rule.allowed.join(', ')}`);
  }
  return text;
}

function dateValue(value, rule, reasons) {
  if (value === ABSENT) return null;
  let when;
  try {
    when = parseDate(value, rule.format ?? ISO8601);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    reasons.push(`${rule.name}: ${err.message}`);
    return null;
  }
  if (when === null && !rule.nullable) reasons.push(`${rule.name}: missing value (not nullable)`);
  return when;
}

/**
 * Normalise and check `records` (objects of feature -> JSON value) under the bundle's rules.
 * Returns {rows, numbers, texts, missing, problems}: one array per model input (numbers NaN
 * where missing or invalid, categories with the missing-category token), and per invalid
 * record's index its reasons ("feature: reason"), in the order of the rules.
 */
export function readInputs(bundle, records) {
  const rows = records.length;
  const numbers = {};
  const dates = {};
  const texts = {};
  const missing = {};
  const problems = {};
  const reasonsOf = (i) => (problems[i] ??= []);
  for (const rule of bundle.rules) {
    const name = rule.name;
    const values = records.map((r, i) => {
      if (Object.hasOwn(r, name)) return r[name];
      reasonsOf(i).push(`${name}: ${ABSENT_REASON}`);
      return ABSENT;
    });
    if (rule.kind === 'numeric') {
      numbers[name] = values.map((v, i) => numericValue(v, rule, reasonsOf(i)));
    } else if (rule.kind === 'categorical') {
      const found = values.map((v, i) => categoryValue(v, rule, reasonsOf(i)));
      missing[name] = found.map((t) => t === null);
      texts[name] = found.map((t) => t ?? bundle.missing_category);
    } else {
      const when = values.map((v, i) => dateValue(v, rule, reasonsOf(i)));
      for (const part of rule.parts ?? []) {
        dates[partColumn(name, part)] = when.map((us) => (us === null ? NaN : PARTS[part](us)));
      }
    }
  }
  for (const i of Object.keys(problems)) if (problems[i].length === 0) delete problems[i];
  return { rows, numbers: { ...numbers, ...dates }, texts, missing, problems };
}

/** Per row, the values outside what training saw (tabml.scoring.range_warnings). */
export function rangeWarnings(bundle, inputs) {
  const found = [];
  const { numeric, categorical } = bundle.warnings;
  for (let i = 0; i < inputs.rows; i++) {
    const row = [];
    for (const [name, low, high] of numeric) {
      const value = inputs.numbers[name]?.[i];
      if (value === undefined || Number.isNaN(value) || (low <= value && value <= high)) continue;
      row.push({
        feature: name, value, training_range: [low, high],
        message: `${name}=${pyFloat(value)} is outside the training range [${pyFloat(low)}, ${pyFloat(high)}]`,
      });
    }
    for (const [name, seen] of categorical) {
      if (!(name in inputs.texts) || inputs.missing[name][i]) continue;
      const value = inputs.texts[name][i];
      if (seen.includes(value)) continue;
      row.push({
        feature: name, value, training_categories: seen,
        message: `${name}=${pyRepr(value)} was not seen in training`,
      });
    }
    found.push(row);
  }
  return found;
}
