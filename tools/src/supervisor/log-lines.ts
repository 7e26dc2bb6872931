const COLOURS = [36, 33, 35, 32, 34, 31, 96, 93];
const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const LEVEL_NUMBERS: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};
// The fields worth a glance on a terminal; the full JSON is what a log shipper should read.
const SHOWN_FIELDS = ['correlation_id', 'event_type', 'outcome', 'reason', 'url', 'trace_id'] as const;

/** Turns a child's output line into one prefixed, optionally coloured terminal line. */
export function createLineFormatter(options: { names: readonly string[]; colour: boolean }) {
  const width = Math.max(...options.names.map((name) => name.length));
  const paint = (code: number, text: string) => (options.colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const colourOf = new Map(options.names.map((name, i) => [name, COLOURS[i % COLOURS.length] ?? 37]));

  return (name: string, line: string): string => {
    const prefix = paint(colourOf.get(name) ?? 37, `${name.padEnd(width)} │`);
    return `${prefix} ${readable(line, paint)}`;
  };
}

/** pino's JSON made readable: time, level, message and a few fields; anything else passes unchanged. */
function readable(line: string, paint: (code: number, text: string) => string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  // JSON.parse also yields null, numbers and strings: only pino's objects are reformatted.
  if (typeof entry !== 'object' || (entry as unknown) === null || typeof entry.msg !== 'string') return line;
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  // The services' pino writes the level as a label ("info"); other pino setups write its number.
  const level = typeof entry.level === 'number' ? entry.level : (LEVEL_NUMBERS[String(entry.level)] ?? 30);
  const label = LEVELS[level] ?? String(level);
  const levelText = level >= 50 ? paint(31, label) : level >= 40 ? paint(33, label) : paint(2, label);
  const fields = SHOWN_FIELDS.filter((field) => entry[field] !== undefined)
    .map((field) => {
      const value = entry[field];
      return `${field}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
    })
    .join(' ');
  const error = (entry.err as { message?: unknown } | undefined)?.message;
  return [
    paint(2, time),
    levelText,
    entry.msg,
    fields && paint(2, fields),
    typeof error === 'string' ? paint(31, error) : '',
  ]
    .filter(Boolean)
    .join(' ');
}
