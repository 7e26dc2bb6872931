/** One HTTP answer, with how long it took (until the whole body arrived). */
export interface Answer {
  status: number;
  /** The raw body; '' for the seed's body-less failures. */
  text: string;
  /** The body parsed as JSON, or {} when there is none. */
  body: Record<string, unknown>;
  ms: number;
}

/** GET `url`, timed. */
export function get(url: string): Promise<Answer> {
  return call(url, { method: 'GET' });
}

/** POST `body` as JSON (a string is sent as is, to test bad JSON), timed. */
export function post(url: string, body: unknown): Promise<Answer> {
  return call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function call(url: string, init: RequestInit): Promise<Answer> {
  const startedAt = performance.now();
  const response = await fetch(url, init);
  const text = await response.text();
  const ms = performance.now() - startedAt;
  return {
    status: response.status,
    text,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    ms,
  };
}

/** A `random` that returns `values` in turn, over and over, so a fault rate becomes a fixed pattern. */
export function sequence(...values: number[]): () => number {
  let next = 0;
  return () => {
    const value = values[next % values.length];
    next += 1;
    if (value === undefined) throw new Error('sequence() needs at least one value');
    return value;
  };
}

/** Loose lower bound for a delay: timers may fire a little early relative to the client's clock. */
export const atLeast = (ms: number) => ms - 20;

/** An error answer's message and listed problems, one per line, to match against. */
export function explanation(answer: Answer): string {
  const { message, errors } = answer.body as { message?: string; errors?: string[] };
  return [message ?? '', ...(errors ?? [])].join('\n');
}
