// The remembered-browser rule (docs/sign-in-sequence.md): an earlier code counts only when the request
// does not ask for a newer one; and the cookie is read defensively (well-formed entries, bounded).
import { describe, expect, it } from '@jest/globals';
import { MAX_REMEMBERED_PER_BROWSER, parseRememberCookie, rememberedCodeAccepted } from '../../../src/domain/mfa/remembered-browsers.ts';

const now = new Date('2030-01-31T12:00:00Z');
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);

describe('remembered browser rule', () => {
  it.each([
    ['no prompt, no max_age', { loginPrompt: false, maxAge: undefined }, 60 * 24 * 29, true],
    ['max_age longer than the time since the code', { loginPrompt: false, maxAge: 3600 }, 59, true],
    ['max_age equal to it', { loginPrompt: false, maxAge: 3600 }, 60, true],
    ['max_age shorter than it', { loginPrompt: false, maxAge: 3600 }, 61, false],
    ['max_age=0', { loginPrompt: false, maxAge: 0 }, 0.01, false],
    ['prompt=login', { loginPrompt: true, maxAge: undefined }, 0, false],
  ])('%s', (_name, request, minutes, accepted) => {
    expect(rememberedCodeAccepted(minutesAgo(minutes), request, now)).toBe(accepted);
  });
});

describe('remember cookie', () => {
  const id = '0b6c6a55-93a8-4a3c-9f86-1f4a4a1c6f3e';
  const token = 'A'.repeat(43);

  it('keeps well-formed entries only, at most a few', () => {
    expect(parseRememberCookie(`${id}.${token}~garbage~${id}.short`)).toEqual([{ id, token }]);
    expect(parseRememberCookie(Array.from({ length: 9 }, () => `${id}.${token}`).join('~').slice(0, 600))).toHaveLength(MAX_REMEMBERED_PER_BROWSER);
    expect(parseRememberCookie(undefined)).toEqual([]);
    expect(parseRememberCookie('x'.repeat(601))).toEqual([]);
  });
});
