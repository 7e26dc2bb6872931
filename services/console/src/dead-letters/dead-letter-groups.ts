import type { DeadLetter } from '@platform/messaging';

/** Dead letters that failed with the same error: how many, when first and last, and which. */
export interface LetterGroup {
  error: string;
  count: number;
  /** Earliest and latest time of dead-lettering in the group (ISO 8601), when recorded. */
  firstAt: string | undefined;
  lastAt: string | undefined;
  letters: DeadLetter[];
}

const NO_ERROR = '(no error recorded)';

/**
 * Groups letters by their last error, as NServiceBus' ServicePulse groups failed messages: the largest
 * group first, then the most recent. Pure.
 */
export function groupByError(letters: readonly DeadLetter[]): LetterGroup[] {
  const groups = new Map<string, LetterGroup>();
  for (const letter of letters) {
    const error = letter.lastError ?? NO_ERROR;
    let group = groups.get(error);
    if (!group) {
      group = { error, count: 0, firstAt: undefined, lastAt: undefined, letters: [] };
      groups.set(error, group);
    }
    group.count += 1;
    group.letters.push(letter);
    const at = letter.deadLetteredAt;
    if (at !== undefined) {
      if (group.firstAt === undefined || at < group.firstAt) group.firstAt = at;
      if (group.lastAt === undefined || at > group.lastAt) group.lastAt = at;
    }
  }
  return [...groups.values()].sort(
    (a, b) => b.count - a.count || (b.lastAt ?? '').localeCompare(a.lastAt ?? ''),
  );
}

/** The letters about an order or with a message id: `query` matched against both. Pure. */
export function findLetters(letters: readonly DeadLetter[], query: string): DeadLetter[] {
  const wanted = query.trim();
  if (wanted === '') return [...letters];
  return letters.filter((letter) => letter.messageId === wanted || letter.correlationId === wanted);
}
