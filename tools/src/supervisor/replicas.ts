import { ConfigError } from '@platform/config';
import { SERVICE_NAMES, type ServiceName } from '../isolated-system.js';

/** How many instances of each of the five services to run (the console and simulators run one each). */
export type Replicas = Record<ServiceName, number>;

/** More instances than this on one machine only share its cores thinner; a typo like 20 is refused. */
export const MOST_REPLICAS = 16;

/**
 * Reads `--replicas` values: `N` (every service), `service=N` (one), or several of them separated by
 * commas or given as several `--replicas`; later ones win, so `--replicas 2,payment=3` runs three
 * payments and two of everything else. Throws a ConfigError naming every bad part.
 */
export function parseReplicas(values: readonly string[]): Replicas {
  const replicas = Object.fromEntries(SERVICE_NAMES.map((name) => [name, 1])) as Replicas;
  const problems: string[] = [];
  const count = (text: string, part: string): number | undefined => {
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (n >= 1 && n <= MOST_REPLICAS) return n;
    problems.push(`--replicas ${part}: the count must be a whole number from 1 to ${MOST_REPLICAS}`);
    return undefined;
  };
  for (const part of values.flatMap((value) => value.split(',')).map((text) => text.trim())) {
    const equals = part.indexOf('=');
    const name = equals === -1 ? undefined : part.slice(0, equals);
    const text = part.slice(equals + 1);
    if (name === undefined) {
      const n = count(text, part);
      if (n !== undefined) for (const service of SERVICE_NAMES) replicas[service] = n;
    } else if (!SERVICE_NAMES.includes(name as ServiceName)) {
      problems.push(`--replicas ${part}: no service '${name}' (one of ${SERVICE_NAMES.join(', ')})`);
    } else {
      const n = count(text, part);
      if (n !== undefined) replicas[name as ServiceName] = n;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return replicas;
}

/** `order ×2, payment ×3` for the services with more than one instance; '' when there are none. */
export function describeReplicas(replicas: Replicas): string {
  return SERVICE_NAMES.filter((name) => replicas[name] > 1)
    .map((name) => `${name} ×${replicas[name]}`)
    .join(', ');
}
