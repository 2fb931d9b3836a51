// The MFA lockout schedule (DESIGN.md §9): the first lock lasts `baseSeconds` (15 min), each repeat
// doubles it, never beyond `maxSeconds` (24 h). Counting attempts is the store's job, atomically; the
// store reads the lock lengths from `lockSchedule`, so this is the one rule.

export interface LockSchedule {
  baseSeconds: number;
  maxSeconds: number;
}

/** How long the next lock lasts, given how many locks the account has had before. */
export function lockDurationSeconds(lockCount: number, { baseSeconds, maxSeconds }: LockSchedule): number {
  const repeats = Math.max(0, Math.floor(lockCount));
  // 2 ** repeats grows to Infinity rather than wrapping, so the cap always holds.
  return Math.min(baseSeconds * 2 ** repeats, maxSeconds);
}

/** Every distinct lock length in order, up to the first that reaches the cap (which then repeats). */
export function lockSchedule(schedule: LockSchedule): number[] {
  const lengths: number[] = [];
  for (let count = 0; ; count++) {
    const seconds = lockDurationSeconds(count, schedule);
    lengths.push(seconds);
    if (seconds >= schedule.maxSeconds || lengths.length >= 64) return lengths;
  }
}

export type LockoutState = { locked: true; until: Date } | { locked: false };

export function lockoutState({ lockedUntil, now }: { lockedUntil: Date | null | undefined; now: Date }): LockoutState {
  return lockedUntil && lockedUntil.getTime() > now.getTime() ? { locked: true, until: lockedUntil } : { locked: false };
}
