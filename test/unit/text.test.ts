import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE, SECOND, YEAR } from '../../src/contract/policy.js';
import { durationSchema, parseDuration } from '../../src/validation/duration.js';
import {
  displayNameSchema,
  forbiddenCharacters,
  httpUrlSchema,
  paragraphSchema,
  plainParagraph,
  reasonSchema,
  REASON_MAX,
  termsSchema,
  TERMS_MAX,
} from '../../src/validation/text.js';

// One schema per kind of text a person types (src/validation/text.ts) and one
// reading of durations (src/validation/duration.ts).

const issue = (result: { success: boolean; error?: { issues: { message: string }[] } }) => result.error?.issues[0]?.message;

const SINGLE_LINE = 'must be a single line (no line breaks)';
const CONTROL = 'must not contain control characters such as tabs';
const CONTROL_MULTILINE = 'must not contain control characters (line breaks are fine, tabs and others are not)';
const FORMAT = 'must not contain invisible formatting characters such as bidi overrides (U+202E)';

describe('forbiddenCharacters', () => {
  it.each([
    ['a line feed', 'a\nb', SINGLE_LINE, undefined],
    ['a carriage return', 'a\rb', SINGLE_LINE, CONTROL_MULTILINE],
    ['a Windows line end', 'a\r\nb', SINGLE_LINE, undefined],
    ['a line separator', 'a\u2028b', SINGLE_LINE, CONTROL_MULTILINE],
    ['a paragraph separator', 'a\u2029b', SINGLE_LINE, CONTROL_MULTILINE],
    ['a tab', 'a\tb', CONTROL, CONTROL_MULTILINE],
    ['NUL', 'a\u0000b', CONTROL, CONTROL_MULTILINE],
    ['DEL', 'a\u007Fb', CONTROL, CONTROL_MULTILINE],
    ['a C1 control', 'a\u0085b', CONTROL, CONTROL_MULTILINE],
    ['a right-to-left override', 'invoice\u202Efdp.exe', FORMAT, FORMAT],
    ['a left-to-right embedding', 'a\u202Ab', FORMAT, FORMAT],
    ['a first-strong isolate', 'a\u2068b\u2069', FORMAT, FORMAT],
    ['a right-to-left mark', 'a\u200Fb', FORMAT, FORMAT],
    ['a soft hyphen', 'a\u00ADb', FORMAT, FORMAT],
    ['a byte order mark', '\uFEFFab', FORMAT, FORMAT],
    ['a lone high surrogate', 'a\uD83Db', FORMAT, FORMAT],
    ['a lone low surrogate', 'a\uDE00b', FORMAT, FORMAT],
  ])('%s: refused on one line, and in a paragraph as expected', (_label, value, oneLine, paragraph) => {
    expect(forbiddenCharacters(value, { multiline: false })).toBe(oneLine);
    expect(forbiddenCharacters(value, { multiline: true })).toBe(paragraph);
  });

  it.each([
    ['plain text', 'Contoso Ltd'],
    ['accents and ß', 'Bücher & Söhne GmbH, Straße'],
    ['ZWNJ in a Persian name', 'می\u200Cخواهم'],
    ['a ZWJ emoji sequence', 'Team 👩\u200D💻'],
    ['a surrogate pair', 'Rocket 🚀'],
    ['right-to-left script without controls', 'שלום עולם'],
    ['CJK', '株式会社'],
  ])('%s is allowed', (_label, value) => {
    expect(forbiddenCharacters(value, { multiline: false })).toBeUndefined();
    expect(forbiddenCharacters(value, { multiline: true })).toBeUndefined();
  });
});

describe('displayNameSchema', () => {
  it('trims, and refuses empty or longer than 200 characters', () => {
    expect(displayNameSchema.parse('  Contoso Ltd  ')).toBe('Contoso Ltd');
    expect(issue(displayNameSchema.safeParse('   '))).toBe('must not be empty');
    expect(displayNameSchema.parse('x'.repeat(200))).toHaveLength(200);
    expect(issue(displayNameSchema.safeParse('x'.repeat(201)))).toBe('must be at most 200 characters');
  });

  it('refuses header injection and bidi tricks', () => {
    expect(issue(displayNameSchema.safeParse('Contoso\r\nBcc: victim@example.com'))).toBe(SINGLE_LINE);
    expect(issue(displayNameSchema.safeParse('Contoso \u202Egpj.exe'))).toBe(FORMAT);
    expect(displayNameSchema.safeParse(42).success).toBe(false);
  });

  it('never accepts a value holding a line break, control or bidi control character', () => {
    const forbidden = fc.constantFrom('\n', '\r', '\t', '\u0000', '\u001B', '\u007F', '\u2028', '\u2029', '\u202A', '\u202E', '\u2066', '\u2069', '\u200E', '\u200F', '\uFEFF');
    const around = fc.string({ maxLength: 20 });
    fc.assert(
      fc.property(around, forbidden, around, (before, bad, after) => {
        const value = `${before}${bad}${after}`;
        // Trimming may drop a forbidden character at either end; one in the middle must be refused.
        if (value.trim().includes(bad)) expect(displayNameSchema.safeParse(value).success).toBe(false);
      }),
      { seed: 7001, numRuns: 1000 },
    );
  });
});

describe('paragraphs: terms and reasons', () => {
  it('keep line breaks, turning Windows line ends into \\n', () => {
    expect(termsSchema.parse('  Line one\r\nLine two\nLine three  ')).toBe('Line one\nLine two\nLine three');
    expect(reasonSchema.parse('No longer needed.\r\n\r\nThanks')).toBe('No longer needed.\n\nThanks');
  });

  it('refuse tabs and bidi controls', () => {
    expect(issue(termsSchema.safeParse('Pay\tnow'))).toBe(CONTROL_MULTILINE);
    expect(issue(termsSchema.safeParse('Pay \u202Enow'))).toBe(FORMAT);
  });

  it('have their own maximum', () => {
    expect(TERMS_MAX).toBe(5000);
    expect(REASON_MAX).toBe(2000);
    expect(termsSchema.safeParse('x'.repeat(TERMS_MAX)).success).toBe(true);
    expect(issue(termsSchema.safeParse('x'.repeat(TERMS_MAX + 1)))).toBe('must be at most 5000 characters');
    expect(issue(reasonSchema.safeParse('x'.repeat(REASON_MAX + 1)))).toBe('must be at most 2000 characters');
    expect(issue(paragraphSchema(10).safeParse('x'.repeat(11)))).toBe('must be at most 10 characters');
    expect(issue(reasonSchema.safeParse(' \n '))).toBe('must not be empty');
  });
});

describe('plainParagraph: text from other systems, made fit for an email', () => {
  it('turns forbidden characters into spaces and line ends into \\n, then trims', () => {
    expect(plainParagraph('  a\tb\r\nc\rd\u202Ee\u0000f  ')).toBe('a b\nc\nd e f');
  });

  it('cuts to the maximum by whole characters, never leaving half a surrogate pair', () => {
    expect(plainParagraph('😀😀😀', 5)).toBe('😀😀');
    expect(plainParagraph('abcdef', 3)).toBe('abc');
    expect(plainParagraph('x'.repeat(TERMS_MAX + 100))).toHaveLength(TERMS_MAX);
  });

  it('never refuses, and what it returns is always an acceptable paragraph (or empty)', () => {
    // Any UTF-16 code unit, lone surrogates included, with the troublesome ones more often.
    // (fc's 'binary' unit would do, but building it costs two seconds per test file.)
    const codeUnit = fc.oneof(
      fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
      fc.constantFrom('\n', '\r', '\r\n', '\t', '\u0000', '\u202E', '\u2028', '\uFEFF', '\u200D', '😀', ' '),
    );
    fc.assert(
      fc.property(fc.string({ unit: codeUnit, maxLength: 300 }), fc.integer({ min: 1, max: 400 }), (value, max) => {
        const cleaned = plainParagraph(value, max);
        expect(cleaned.length).toBeLessThanOrEqual(max);
        expect(forbiddenCharacters(cleaned, { multiline: true })).toBeUndefined();
        expect(cleaned.startsWith(' ')).toBe(false);
        if (cleaned.trim() !== '') expect(paragraphSchema(max).safeParse(cleaned).success).toBe(true);
      }),
      { seed: 7002, numRuns: 300 },
    );
  });
});

describe('httpUrlSchema', () => {
  it('re-serialises, percent-encoding spaces, quotes and angle brackets', () => {
    expect(httpUrlSchema.parse('https://partner.example/hooks/a b"<>')).toBe('https://partner.example/hooks/a%20b%22%3C%3E');
    expect(httpUrlSchema.parse('HTTP://Partner.EXAMPLE')).toBe('http://partner.example/');
  });

  it.each(['javascript:alert(1)', 'data:text/html,<b>x</b>', 'ftp://partner.example/', 'file:///etc/passwd', 'partner.example/hooks', ''])('refuses %j', (value) => {
    expect(httpUrlSchema.safeParse(value).success).toBe(false);
  });

  it('refuses more than 2000 characters', () => {
    expect(issue(httpUrlSchema.safeParse(`https://partner.example/${'x'.repeat(2000)}`))).toBe('must be at most 2000 characters');
  });

  // Angle brackets and spaces never come through anywhere. A double quote is encoded in
  // the path, query and fragment, but the URL standard allows it in a host name
  // ("http://a.example\"/" stays as it is), so the value still needs HTML escaping in an
  // attribute, which Handlebars and the pages' html`` do.
  it('never lets an angle bracket or a space through, nor a quote after the host', () => {
    const host = fc.constantFrom('partner.example', 'Hooks.Partner.example', '127.0.0.1', '[::1]', 'xn--bcher-kva.example', 'bücher.example');
    const tail = fc.string({ unit: fc.constantFrom(...'ab/?#&=%"\'<> \t`{}|\\^:@;,é'), maxLength: 30 });
    fc.assert(
      fc.property(fc.constantFrom('http', 'https', 'HTTPS'), host, fc.constantFrom('', ':8443'), tail, (scheme, name, port, rest) => {
        const parsed = httpUrlSchema.safeParse(`${scheme}://${name}${port}${rest}`);
        if (!parsed.success) return;
        expect(parsed.data).not.toMatch(/[<>\s]/);
        const { pathname, search, hash } = new URL(parsed.data);
        expect(`${pathname}${search}${hash}`).not.toContain('"');
      }),
      { seed: 7003, numRuns: 500 },
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['14d', 14 * DAY],
    ['14 days', 14 * DAY],
    ['  7d  ', 7 * DAY],
    ['30s', 30 * SECOND],
    ['1.5s', 1500],
    ['2y', 2 * YEAR],
    ['P14D', 14 * DAY],
    ['p14d', 14 * DAY],
    ['P2W', 14 * DAY],
    ['PT30S', 30 * SECOND],
    ['PT1H30M', HOUR + 30 * MINUTE],
    ['P1DT12H', DAY + 12 * HOUR],
    ['PT1.5S', 1500],
  ])('%j is %d ms', (value, expected) => {
    expect(parseDuration(value)).toBe(expected);
  });

  it.each([
    ['P1Y', 'must not use years or months (they have no fixed length): write days, like "P730D"'],
    ['P1M', 'must not use years or months (they have no fixed length): write days, like "P730D"'],
    ['-P1D', 'must not be negative'],
    ['-1d', 'must be at least 1 second'],
    ['500ms', 'must be at least 1 second'],
    ['100', 'must be at least 1 second'],
    ['PT0.5S', 'must be at least 1 second'],
    ['abc', 'must be a duration like "14d", "30s", "P14D" or "PT30S"'],
    ['P', 'must be a duration like "14d", "30s", "P14D" or "PT30S"'],
    ['1e3', 'must be a duration like "14d", "30s", "P14D" or "PT30S"'],
  ])('%j is refused: %s', (value, message) => {
    expect(parseDuration(value)).toBe(message);
  });

  it('ISO 8601 and the short form agree', () => {
    expect(parseDuration('P730D')).toBe(parseDuration('730d'));
    expect(parseDuration('PT4S')).toBe(parseDuration('4s'));
    expect(parseDuration('P1W')).toBe(parseDuration('7d'));
  });

  it('a whole number of seconds written either way reads back exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 * 366 * 86_400 }), (seconds) => {
        expect(parseDuration(`${seconds}s`)).toBe(seconds * SECOND);
        expect(parseDuration(`PT${seconds}S`)).toBe(seconds * SECOND);
      }),
      { seed: 7004, numRuns: 300 },
    );
  });

  // A defect found writing this test: `ms` throws on an empty string, so an offer with
  // `"duration": ""` (or only spaces) threw out of the schema and became a 500, not a 400.
  it('refuses an empty or blank duration with a message', () => {
    expect(parseDuration('')).toBe('must be a duration like "14d", "30s", "P14D" or "PT30S"');
    expect(durationSchema().safeParse('   ').success).toBe(false);
  });
});

describe('durationSchema', () => {
  it('gives milliseconds, refusing outside the range with the range in words', () => {
    const ttl = durationSchema({ min: HOUR, max: 90 * DAY });
    expect(ttl.parse('P14D')).toBe(14 * DAY);
    expect(ttl.parse('1h')).toBe(HOUR);
    expect(ttl.parse('90d')).toBe(90 * DAY);
    expect(issue(ttl.safeParse('59m'))).toBe('must be between 1 hour and 90 days');
    expect(issue(ttl.safeParse('P91D'))).toBe('must be between 1 hour and 90 days');
    expect(issue(ttl.safeParse('soon'))).toBe('must be a duration like "14d", "30s", "P14D" or "PT30S"');
  });

  it('refuses more than 40 characters before parsing, and any non-string', () => {
    expect(issue(durationSchema().safeParse(`${'1'.repeat(40)}d`))).toBe('must be at most 40 characters');
    expect(durationSchema().safeParse(14 * DAY).success).toBe(false);
    expect(durationSchema().parse('1s')).toBe(SECOND);
  });
});
