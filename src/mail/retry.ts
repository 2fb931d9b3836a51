// What a sender does after a failed delivery (a pure decision, DESIGN.md §12.1): try again after an
// exponential delay, or give up when the mail server refused the message for good or the attempts
// are used up.
export interface RetryPolicy {
  /** delay after the first failed attempt, in seconds; doubles with each further failure. */
  baseSeconds: number;
  /** the longest delay between two attempts. */
  maxSeconds: number;
  /** attempts in all, the first included; the message is given up after the last. */
  maxAttempts: number;
}

/** 30 s, 1 min, 2 min … capped at 1 h: 15 attempts span about eight hours of outage. */
export const DEFAULT_RETRY: RetryPolicy = { baseSeconds: 30, maxSeconds: 3600, maxAttempts: 15 };

/** How a transport failure reads: `temporary` (server down, 4xx, timeout) or `permanent` (5xx for this message). */
export type FailureKind = 'temporary' | 'permanent';

export type AfterFailure = { next: 'retry'; delaySeconds: number } | { next: 'give_up'; reason: 'refused' | 'attempts_exhausted' };

/** The delay before attempt `attempts + 1`, after `attempts` failures (attempts ≥ 1). */
export function retryDelaySeconds(attempts: number, policy: RetryPolicy): number {
  const exponent = Math.min(Math.max(0, attempts - 1), 30);
  return Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** exponent);
}

export function afterFailure(attempts: number, kind: FailureKind, policy: RetryPolicy): AfterFailure {
  if (kind === 'permanent') return { next: 'give_up', reason: 'refused' };
  if (attempts >= policy.maxAttempts) return { next: 'give_up', reason: 'attempts_exhausted' };
  return { next: 'retry', delaySeconds: retryDelaySeconds(attempts, policy) };
}
