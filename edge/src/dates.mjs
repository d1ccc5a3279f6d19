// Date features, as tabml.scoring.dates parses them: ISO8601 (Python's fromisoformat over the
// template's pattern) or a declared strptime format among the codes the template allows;
// times with a UTC offset converted to UTC, and the same derived numbers to the bit.
import { InvalidValue, isMissing, shown } from './values.mjs';

export const ISO8601 = 'ISO8601';
const ISO_DATE = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?:[T ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
// Python's _strptime sub-patterns for the codes a profile may declare (named by field).
const STRPTIME = {
  '%Y': '(?<Y>\\d\\d\\d\\d)',
  '%m': '(?<m>1[0-2]|0[1-9]|[1-9])',
  '%d': '(?<d>3[0-1]|[1-2]\\d|0[1-9]|[1-9]| [1-9])',
  '%H': '(?<H>2[0-3]|[0-1]\\d|\\d)',
  '%M': '(?<M>[0-5]\\d|\\d)',
  '%S': '(?<S>6[0-1]|[0-5]\\d|\\d)',
  '%f': '(?<f>[0-9]{1,6})',
  '%z': '(?<z>[+-]\\d\\d:?[0-5]\\d(?::?[0-5]\\d(?:\\.\\d{1,6})?)?|Z)',
};
const DESCRIBED = { '%Y': 'YYYY', '%m': 'MM', '%d': 'DD', '%H': 'hh', '%M': 'mm', '%S': 'ss', '%f': 'ffffff', '%z': '+hh:mm' };

/** A format as people write it: %d.%m.%Y -> DD.MM.YYYY. */
export function describeFormat(fmt) {
  if (fmt === ISO8601) return 'ISO 8601 (YYYY-MM-DD, or YYYY-MM-DDThh:mm[:ss][+hh:mm])';
  return fmt.replace(/%./g, (code) => DESCRIBED[code]);
}

// strptime's regex: literal text escaped, whitespace as \s+, letters in any case (Python
// compiles it case-insensitive; only the Z of %z is exact).
function literal(text) {
  return text
    .replace(/[\\.^$*+?(){}[\]|/-]/g, '\\$&')
    .replace(/\s+/g, '\\s+')
    .replace(/[a-zA-Z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

const compiled = new Map();
function strptimeRegex(fmt) {
  if (!compiled.has(fmt)) {
    let source = '';
    let end = 0;
    for (const found of fmt.matchAll(/%./g)) {
      source += literal(fmt.slice(end, found.index)) + STRPTIME[found[0]];
      end = found.index + 2;
    }
    compiled.set(fmt, new RegExp(`^${source}${literal(fmt.slice(end))}$`));
  }
  return compiled.get(fmt);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

// A point in time: microseconds since 1970-01-01 (naive UTC), exact in a double's integers.
function instant(y, mo, d, h, mi, s, us, offsetSeconds) {
  if (y < 1 || d > (mo === 2 && leap(y) ? 29 : DAYS_IN_MONTH[mo - 1]) || s > 59) return null;
  const day = new Date(0);
  day.setUTCFullYear(y, mo - 1, d); // setUTCFullYear: years 0-99 stay what they are
  const seconds = day.getTime() / 1000 + h * 3600 + mi * 60 + s - offsetSeconds;
  return seconds * 1e6 + us;
}

function offsetOf(z) {
  if (z === undefined) return 0;
  if (z === 'Z') return 0;
  const digits = z.slice(1).replaceAll(':', '');
  const [whole, fraction] = digits.split('.');
  const seconds = Number(whole.slice(0, 2)) * 3600 + Number(whole.slice(2, 4)) * 60 + Number(whole.slice(4, 6) || 0);
  const micros = fraction ? Number(fraction.padEnd(6, '0')) / 1e6 : 0;
  return (z[0] === '-' ? -1 : 1) * (seconds + micros);
}

const micros = (f) => (f ? Number(f.slice(0, 6).padEnd(6, '0')) : 0);

/** A date string in format `fmt` as microseconds since the epoch (UTC); null if not one. */
export function parseText(value, fmt) {
  if (fmt === ISO8601) {
    const m = ISO_DATE.exec(value);
    if (!m) return null;
    const [, y, mo, d, h, mi, s, f, z] = m;
    return instant(+y, +mo, +d, +(h ?? 0), +(mi ?? 0), +(s ?? 0), micros(f), offsetOf(z));
  }
  const m = strptimeRegex(fmt).exec(value);
  if (!m) return null;
  const g = m.groups;
  return instant(+g.Y, +(g.m ?? 1), +(g.d ?? 1), +(g.H ?? 0), +(g.M ?? 0), +(g.S ?? 0), micros(g.f), offsetOf(g.z));
}

/** A date feature's value as microseconds since the epoch (null when missing). */
export function parseDate(value, fmt) {
  if (typeof value === 'string') {
    const parsed = parseText(value, fmt);
    if (parsed === null) throw new InvalidValue(`${shown(value)} is not a date in the format ${describeFormat(fmt)}`);
    return parsed;
  }
  if (isMissing(value)) return null;
  throw new InvalidValue(`${shown(value)} is not a date in the format ${describeFormat(fmt)}`);
}

const DAY_US = 86_400e6;
const civil = (us) => new Date(Math.floor(us / 1e6) * 1000); // whole seconds, UTC fields

/** One function per derived number, as tabml.scoring.dates.PARTS. */
export const PARTS = {
  year: (us) => civil(us).getUTCFullYear(),
  month: (us) => civil(us).getUTCMonth() + 1,
  day: (us) => civil(us).getUTCDate(),
  day_of_year: (us) => {
    const t = civil(us);
    return Math.round((Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()) - new Date(0).setUTCFullYear(t.getUTCFullYear(), 0, 1)) / 864e5) + 1;
  },
  day_of_week: (us) => (civil(us).getUTCDay() + 6) % 7, // Monday = 0
  hour: (us) => civil(us).getUTCHours(),
  days_since_epoch: (us) => us / DAY_US,
};

export const partColumn = (column, part) => `${column} (${part})`;
