import { describe, it, expect } from '@jest/globals';
import { lockDurationSeconds, lockSchedule, lockoutState } from '../../../src/domain/mfa/lockout.ts';

const schedule = { baseSeconds: 15 * 60, maxSeconds: 24 * 3600 };

describe('MFA lock duration: 15 min, doubling on each repeat, at most 24 h (DESIGN.md §9)', () => {
  it.each([
    ['the first lock', 0, '15 min', 900],
    ['the second lock', 1, '30 min', 1800],
    ['the third lock', 2, '1 h', 3600],
    ['the fourth lock', 3, '2 h', 7200],
    ['the fifth lock', 4, '4 h', 14400],
    ['the sixth lock', 5, '8 h', 28800],
    ['the seventh lock', 6, '16 h', 57600],
    ['the eighth lock', 7, '24 h (capped from 32 h)', 86400],
    ['the fifty-first lock', 50, '24 h', 86400],
    ['an absurd repeat count', 5000, '24 h', 86400],
    ['a negative count (corrupt row)', -3, '15 min', 900],
  ])('%s (lock count %d) lasts %s', (_label, lockCount, _human, seconds) => {
    expect(lockDurationSeconds(lockCount, schedule)).toBe(seconds);
  });

  it('follows configured thresholds', () => {
    expect(lockDurationSeconds(0, { baseSeconds: 60, maxSeconds: 300 })).toBe(60);
    expect(lockDurationSeconds(3, { baseSeconds: 60, maxSeconds: 300 })).toBe(300);
  });
});

describe('the lock lengths handed to the store (its statement indexes them by lock count)', () => {
  it('lists every distinct length up to the cap, which then repeats', () => {
    expect(lockSchedule(schedule)).toEqual([900, 1800, 3600, 7200, 14400, 28800, 57600, 86400]);
    expect(lockSchedule({ baseSeconds: 60, maxSeconds: 60 })).toEqual([60]);
  });
  it('agrees with lockDurationSeconds for every lock count', () => {
    const lengths = lockSchedule(schedule);
    for (let count = 0; count < 40; count++) expect(lengths[Math.min(count, lengths.length - 1)]).toBe(lockDurationSeconds(count, schedule));
  });
});

describe('MFA lockout state', () => {
  const now = new Date('2025-06-01T12:00:00Z');
  it.each([
    ['never locked', null, { locked: false }],
    ['lock ends in a minute', new Date('2025-06-01T12:01:00Z'), { locked: true, until: new Date('2025-06-01T12:01:00Z') }],
    ['lock ends right now', now, { locked: false }],
    ['lock ended an hour ago', new Date('2025-06-01T11:00:00Z'), { locked: false }],
  ])('%s', (_label, lockedUntil, expected) => {
    expect(lockoutState({ lockedUntil, now })).toEqual(expected);
  });
});
