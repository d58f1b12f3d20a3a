import { emailRegistry, type EmailTemplateName } from '../src/mail/templateData.js';
import { emailSamples } from './emailSamples.js';

// The ways each email's sample is varied when the tests look at every email:
// both wordings of a message that goes to both sides, without its optional
// parts, and with the longest unbroken values the schemas accept in the places
// a partner, a customer or another system chooses them.

export interface SampleVariant {
  /** Which variant, for a test's name: "to partner", "without optional fields, to customer"... */
  label: string;
  data: Record<string, unknown>;
}

/** One word of `length` characters (no space, no hyphen): it cannot wrap at a word boundary. */
export function unbrokenWord(stem: string, length: number): string {
  return stem.repeat(Math.ceil(length / stem.length)).slice(0, length);
}

/** A domain of 63-character labels (DNS's longest), 141 characters in all. */
export const longDomain = `${unbrokenWord('contosopartnerrelationships', 63)}.${unbrokenWord('subsidiarytenants', 63)}.example`;

/** An address with a 64-character local part (the longest SMTP allows) at `longDomain`. */
export const longAddress = `${unbrokenWord('itadministrators', 64)}@${longDomain}`;

const longName = (stem: string) => unbrokenWord(stem, 80);

/** A URL whose path is one 300-character token. */
const longUrl = (url: string) => `${new URL(url).origin}/${unbrokenWord('k7Qm2vXr9TnP4sLd8wYb3cFh6JzA1eGu', 300)}`;

const longText = (text: string) => `${text} ${unbrokenWord('Supercalifragilisticexpialidocious', 120)}.`;

/** Every value people or other systems choose, as long and unbroken as the schemas allow (or longer than any real one). */
function withLongValues(data: Record<string, unknown>): Record<string, unknown> {
  const long = (key: string, value: unknown): unknown => {
    if (typeof value !== 'string') return value;
    if (key === 'partnerName') return longName('NorthwindInformationTechnologyServices');
    if (key === 'customerName') return longName('ContosoPharmaceuticalsInternational');
    if (key === 'offer' || key === 'name' || key === 'product') return longName(value.replace(/\s/g, ''));
    if (key === 'tenantDomain') return longDomain;
    if (key.endsWith('Url')) return longUrl(value);
    if (value.includes('@') && !value.includes(' ')) return longAddress;
    if (key === 'terms' || key === 'reason' || key === 'description') return longText(value);
    return value;
  };
  const walk = (key: string, value: unknown): unknown => {
    if (Array.isArray(value)) return value.map((item) => walk(key, item));
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      return Object.fromEntries(Object.entries(value).map(([childKey, child]) => [childKey, walk(childKey, child)]));
    }
    return long(key, value);
  };
  return walk('', data) as Record<string, unknown>;
}

/** The sample with every field its schema lets be null set to null, or undefined if it has no such field. */
function withoutOptionalFields(name: EmailTemplateName, data: Record<string, unknown>): Record<string, unknown> | undefined {
  const schema = emailRegistry[name].schema;
  const optional = Object.keys(data).filter((key) => data[key] !== null && schema.safeParse({ ...data, [key]: null }).success);
  if (optional.length === 0) return undefined;
  return { ...data, ...Object.fromEntries(optional.map((key) => [key, null])) };
}

/**
 * Each email's sample and its variants: every wording (`recipient`), without the
 * optional fields, and with long unbroken values; `long: false` leaves the last out.
 */
export function sampleVariants(name: EmailTemplateName, { long = true }: { long?: boolean } = {}): SampleVariant[] {
  const sample: Record<string, unknown> = { ...emailSamples[name] };
  const wordings: SampleVariant[] =
    'recipient' in sample
      ? (['partner', 'customer'] as const).map((recipient) => ({ label: `to ${recipient}`, data: { ...sample, recipient } }))
      : [{ label: 'sample', data: sample }];
  const variants = [...wordings];
  for (const { label, data } of wordings) {
    const bare = withoutOptionalFields(name, data);
    if (bare) variants.push({ label: `without optional fields, ${label}`, data: bare });
  }
  if (long) for (const { label, data } of wordings) variants.push({ label: `long unbroken values, ${label}`, data: withLongValues(data) });
  return variants;
}
