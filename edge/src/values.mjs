// Type normalisation, as tabml.scoring.values does it: one rule per feature kind, and the
// reasons quoted the way Python shows values (repr), so a refusal reads the same everywhere.

export class InvalidValue extends Error {}

/** Python's repr of a float (shortest digits; fixed notation for 1e-4 <= |x| < 1e16). */
export function pyFloat(x) {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exp] = x.toExponential().split('e');
  const e = Number(exp);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (e >= -4 && e < 16) {
    if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
    const whole = digits.slice(0, e + 1).padEnd(e + 1, '0');
    const fraction = digits.slice(e + 1);
    return `${sign}${whole}.${fraction || '0'}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

function pyString(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0);
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** Python's repr of a JSON value (a JSON whole number reads as a Python int). */
export function pyRepr(value) {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 1e16 ? String(value) : pyFloat(value);
  if (typeof value === 'string') return pyString(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${pyString(k)}: ${pyRepr(v)}`).join(', ')}}`;
}

/** A value as quoted in a reason: text cut to `limit` characters. */
export function shown(value, limit = 100) {
  if (typeof value === 'string') {
    const chars = Array.from(value);
    if (chars.length > limit) value = chars.slice(0, limit).join('') + '...';
  }
  return pyRepr(value);
}

export function isMissing(value) {
  return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
}

// Python's float() of text: surrounding whitespace, digits with single underscores between
// them, an exponent, or inf/infinity/nan in any case.
const FLOAT_TEXT = /^[+-]?(?:(?:\d(?:_?\d)*)(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const SPECIAL = /^[+-]?(inf|infinity|nan)$/i;

/** A numeric feature's value as a number (NaN when missing). */
export function number(value) {
  if (typeof value === 'boolean') throw new InvalidValue(`${pyRepr(value)} is not a number`);
  let found;
  if (typeof value === 'string') {
    const text = value.trim();
    if (FLOAT_TEXT.test(text)) found = Number(text.replaceAll('_', ''));
    else if (SPECIAL.test(text) && !/nan$/i.test(text)) found = text.startsWith('-') ? -Infinity : Infinity;
    else throw new InvalidValue(`${shown(value)} is not a number`);
  } else if (isMissing(value)) {
    return NaN;
  } else if (typeof value === 'number') {
    found = value;
  } else {
    throw new InvalidValue(`${shown(value)} is not a number`);
  }
  if (!Number.isFinite(found)) throw new InvalidValue(`${shown(value)} is not finite`);
  return found;
}

/** How a boolean is written among `allowed` ([false, true]): False/True by default. */
export function booleanSpelling(allowed) {
  const spelled = {};
  for (const text of allowed || []) {
    const lower = text.toLowerCase();
    if (lower === 'true' || lower === 'false') spelled[lower] = text;
  }
  return [spelled.false ?? 'False', spelled.true ?? 'True'];
}

/** A categorical feature's value as text (null when missing). */
export function category(value, booleans = ['False', 'True']) {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return booleans[value ? 1 : 0];
  if (isMissing(value)) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidValue(`${pyFloat(value)} is not finite`);
    return Number.isInteger(value) ? BigInt(value).toString() : pyFloat(value);
  }
  throw new InvalidValue(`${shown(value)} is not a category (text or a number)`);
}
