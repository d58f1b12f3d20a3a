export type OutputStream = 'stdout' | 'stderr';
export type LineSink = (line: string, stream: OutputStream) => void;

const colorCodes = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
} as const;
export type Color = keyof typeof colorCodes;

// Colors only for a person at a terminal; NO_COLOR / FORCE_COLOR follow the
// conventions other tools honour so logs piped to files stay clean.
function colorEnabled(): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return process.stdout.isTTY === true;
}

const useColor = colorEnabled();

export function paint(text: string, color: Color | 'bold'): string {
  if (!useColor) return text;
  const code = color === 'bold' ? 1 : colorCodes[color];
  return `\u001b[${code}m${text}\u001b[0m`;
}

// Pino writes one JSON object per line; those pass through untouched so the
// combined output can still be piped into pino-pretty or a log shipper.
export function isPinoLine(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null && 'level' in parsed && 'time' in parsed;
  } catch {
    return false;
  }
}

const TAG_WIDTH = 8;

export function taggedSink(tag: string, color: Color): LineSink {
  const prefix = paint(tag.padEnd(TAG_WIDTH), color) + paint('│ ', 'gray');
  return (line, stream) => {
    const out = stream === 'stderr' ? process.stderr : process.stdout;
    out.write(isPinoLine(line) ? `${line}\n` : `${prefix}${line}\n`);
  };
}

/** The orchestrator's own messages, tagged like a child so they line up. */
export function createSay(tag: string): { info: (message: string) => void; error: (message: string) => void } {
  const prefix = paint(tag.padEnd(TAG_WIDTH), 'bold') + paint('│ ', 'gray');
  return {
    info: (message) => process.stdout.write(`${prefix}${message}\n`),
    error: (message) => process.stderr.write(`${prefix}${paint('error:', 'red')} ${message}\n`),
  };
}
