import ms from 'ms';
import { parse as parseIso, type Duration } from 'tinyduration';
import { z } from 'zod';
import { DAY, describeDuration, HOUR, MINUTE, rangeMessage, SECOND, type Range } from '../contract/policy.js';

// Durations are written in the short form ("730d", "14 days", "30s", read by
// `ms`) or in ISO 8601 ("P730D", "PT4S", "P2W", as Microsoft Graph's
// delegated-admin API writes them, read by `tinyduration`). ISO years and months
// are refused: they have no fixed length (a month is 28 to 31 days), and a
// relationship's end must not depend on the calendar it started in. Write days.

const FORMAT_HINT = 'must be a duration like "14d", "30s", "P14D" or "PT30S"';

const isoUnits: [Exclude<keyof Duration, 'negative'>, number][] = [
  ['weeks', 7 * DAY],
  ['days', DAY],
  ['hours', HOUR],
  ['minutes', MINUTE],
  ['seconds', SECOND],
];

/** Milliseconds of an ISO 8601 duration, or a message saying why it is refused. */
function isoToMs(value: string): number | string {
  let duration: Duration;
  try {
    duration = parseIso(value);
  } catch {
    return FORMAT_HINT;
  }
  if (duration.negative) return 'must not be negative';
  if (duration.years || duration.months) return 'must not use years or months (they have no fixed length): write days, like "P730D"';
  return Math.round(isoUnits.reduce((total, [unit, size]) => total + (duration[unit] ?? 0) * size, 0));
}

/** Milliseconds of a duration in either form, or a message saying why it is refused. */
export function parseDuration(value: string): number | string {
  const text = value.trim();
  // `ms` throws on an empty string instead of answering NaN.
  if (text === '') return FORMAT_HINT;
  const parsed = /^-?P/i.test(text) ? isoToMs(text.toUpperCase()) : ms(text as ms.StringValue);
  if (typeof parsed === 'string') return parsed;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed)) return FORMAT_HINT;
  if (parsed < SECOND) return 'must be at least 1 second';
  return Math.round(parsed);
}

/** A duration in milliseconds, at least 1 second; `range` bounds it further. */
export const durationSchema = (range?: Range) =>
  z
    .string()
    .max(40, 'must be at most 40 characters')
    .transform((value, ctx) => {
      const parsed = parseDuration(value);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      if (range && (parsed < range.min || parsed > range.max)) {
        ctx.addIssue({ code: 'custom', message: rangeMessage(range, describeDuration) });
        return z.NEVER;
      }
      return parsed;
    });
