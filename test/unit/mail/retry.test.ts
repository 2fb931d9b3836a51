// The sender's rule book after a failed delivery: exponential backoff capped at the maximum, give up
// on a permanent refusal at once, and after the last attempt.
import { describe, expect, it } from '@jest/globals';
import { afterFailure, DEFAULT_RETRY, retryDelaySeconds, type AfterFailure, type FailureKind } from '../../../src/mail/retry.ts';

const policy = { baseSeconds: 30, maxSeconds: 3600, maxAttempts: 15 };

describe('what a sender does after a failed delivery', () => {
  const rows: [string, number, FailureKind, AfterFailure][] = [
    ['first failure, server down: retry after the base delay', 1, 'temporary', { next: 'retry', delaySeconds: 30 }],
    ['second failure: twice as long', 2, 'temporary', { next: 'retry', delaySeconds: 60 }],
    ['fifth failure: 16 × base', 5, 'temporary', { next: 'retry', delaySeconds: 480 }],
    ['eighth failure: capped at the maximum', 8, 'temporary', { next: 'retry', delaySeconds: 3600 }],
    ['fourteenth failure: still retried, still capped', 14, 'temporary', { next: 'retry', delaySeconds: 3600 }],
    ['the last attempt failed: given up', 15, 'temporary', { next: 'give_up', reason: 'attempts_exhausted' }],
    ['refused for good (550 no such mailbox) on the first attempt: given up at once', 1, 'permanent', { next: 'give_up', reason: 'refused' }],
  ];
  it.each(rows)('%s', (_, attempts, kind, expected) => {
    expect(afterFailure(attempts, kind, policy)).toEqual(expected);
  });

  it('never overflows for absurd attempt counts', () => {
    expect(retryDelaySeconds(10_000, policy)).toBe(3600);
    expect(retryDelaySeconds(0, policy)).toBe(30);
  });

  it('by default keeps trying for hours (an SMTP outage of a morning loses nothing)', () => {
    let total = 0;
    for (let attempt = 1; attempt < DEFAULT_RETRY.maxAttempts; attempt++) total += retryDelaySeconds(attempt, DEFAULT_RETRY);
    expect(total).toBeGreaterThan(6 * 3600);
    expect(total).toBeLessThan(24 * 3600);
  });
});
