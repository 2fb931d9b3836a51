/**
 * DESIGN.md §7 — the RP's local-2FA decision, one row per rule. Claims come from tokens that really
 * went through validateIdToken, as the contract demands.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { JWTPayload } from 'jose';
import { decideLocalMfa, validateIdToken } from '../../../src/relying-party/index.ts';
import type { DecideLocalMfaInput, LocalMfaReason, ValidatedIdTokenClaims } from '../../../src/relying-party/index.ts';
import { CLIENT_ID, ISSUER, NONCE, NOW, NOW_SECONDS, createSigner, idTokenClaims, jwksOf, sign } from './token-factory.ts';

const PWD = ['pwd'];
const PWD_MFA = ['pwd', 'otp', 'mfa'];
const FED_MFA = ['fed', 'mfa'];
const PWD_PASSKEY = ['pwd', 'hwk', 'mfa'];
const PASSWORDLESS = ['hwk', 'user', 'mfa'];
const PWD_SYNCED_PASSKEY = ['pwd', 'swk', 'mfa'];
const MAX_AGE = 600;
const RECENT = NOW_SECONDS - 60;
const STALE = NOW_SECONDS - 3600;

interface Row {
  rule: string;
  path: 'unified' | 'direct';
  local: 'on' | 'off';
  token?: { amr?: string[] | undefined; auth_time?: number | undefined; acr?: string } | 'none';
  maxAge?: number;
  requireLocalMfa: boolean;
  reason: LocalMfaReason;
}

const rows: Row[] = [
  { rule: 'direct sign-in, local 2FA on → the RP\'s own TOTP', path: 'direct', local: 'on', requireLocalMfa: true, reason: 'direct_local_required' },
  { rule: 'direct sign-in, local 2FA off → no second factor', path: 'direct', local: 'off', requireLocalMfa: false, reason: 'local_disabled' },
  { rule: 'direct sign-in ignores any ID token (amr mfa, local on)', path: 'direct', local: 'on', token: { amr: PWD_MFA }, requireLocalMfa: true, reason: 'direct_local_required' },
  { rule: 'unified, amr has mfa, local on → bypassed: Gatehouse enforced MFA', path: 'unified', local: 'on', token: { amr: PWD_MFA }, requireLocalMfa: false, reason: 'unified_mfa_satisfied' },
  { rule: 'unified, amr has mfa, local off → bypassed', path: 'unified', local: 'off', token: { amr: PWD_MFA }, requireLocalMfa: false, reason: 'unified_mfa_satisfied' },
  { rule: 'unified, trusted upstream MFA (fed+mfa), local on → bypassed', path: 'unified', local: 'on', token: { amr: FED_MFA }, requireLocalMfa: false, reason: 'unified_mfa_satisfied' },
  { rule: 'unified, amr has mfa within the RP max age, local on → bypassed', path: 'unified', local: 'on', token: { amr: PWD_MFA, auth_time: RECENT }, maxAge: MAX_AGE, requireLocalMfa: false, reason: 'unified_mfa_satisfied' },
  { rule: 'unified, amr has mfa older than the RP max age, local on → the RP\'s own TOTP', path: 'unified', local: 'on', token: { amr: PWD_MFA, auth_time: STALE }, maxAge: MAX_AGE, requireLocalMfa: true, reason: 'unified_mfa_stale_local_required' },
  { rule: 'unified, amr has mfa but no auth_time while the RP sets a max age, local on → the RP\'s own TOTP', path: 'unified', local: 'on', token: { amr: PWD_MFA, auth_time: undefined }, maxAge: MAX_AGE, requireLocalMfa: true, reason: 'unified_mfa_stale_local_required' },
  { rule: 'unified, amr has mfa older than the max age, local off → no second factor', path: 'unified', local: 'off', token: { amr: PWD_MFA, auth_time: STALE }, maxAge: MAX_AGE, requireLocalMfa: false, reason: 'local_disabled' },
  { rule: 'unified, amr without mfa, local on → the RP\'s own TOTP (or step-up)', path: 'unified', local: 'on', token: { amr: PWD, acr: 'urn:gatehouse:acr:1fa' }, requireLocalMfa: true, reason: 'unified_no_mfa_local_required' },
  { rule: 'unified, amr without mfa, local off → no second factor', path: 'unified', local: 'off', token: { amr: PWD, acr: 'urn:gatehouse:acr:1fa' }, requireLocalMfa: false, reason: 'local_disabled' },
  { rule: 'unified, no amr at all, local on → the RP\'s own TOTP', path: 'unified', local: 'on', token: { amr: undefined, acr: undefined }, requireLocalMfa: true, reason: 'unified_no_mfa_local_required' },
  { rule: 'unified, acr says mfa but amr does not, local on → amr decides: the RP\'s own TOTP', path: 'unified', local: 'on', token: { amr: PWD, acr: 'urn:gatehouse:acr:mfa' }, requireLocalMfa: true, reason: 'unified_no_mfa_local_required' },
  { rule: 'unified without claims, local on → fail closed: the RP\'s own TOTP', path: 'unified', local: 'on', token: 'none', requireLocalMfa: true, reason: 'unified_no_mfa_local_required' },
  { rule: 'unified, password + passkey (hwk+mfa), local on → bypassed', path: 'unified', local: 'on', token: { amr: PWD_PASSKEY, acr: 'urn:gatehouse:acr:phr' }, requireLocalMfa: false, reason: 'unified_mfa_satisfied' },
  { rule: 'unified, passwordless passkey (hwk+user+mfa), local on → bypassed', path: 'unified', local: 'on', token: { amr: PASSWORDLESS, acr: 'urn:gatehouse:acr:phr' }, requireLocalMfa: false, reason: 'unified_mfa_satisfied' },
  { rule: 'unified, password + synced passkey (swk+mfa), local on → bypassed', path: 'unified', local: 'on', token: { amr: PWD_SYNCED_PASSKEY }, requireLocalMfa: false, reason: 'unified_mfa_satisfied' },
  { rule: 'unified, a key without mfa (hwk alone), local on → the RP\'s own TOTP', path: 'unified', local: 'on', token: { amr: ['hwk'] }, requireLocalMfa: true, reason: 'unified_no_mfa_local_required' },
];

let validate: (overrides: JWTPayload) => Promise<ValidatedIdTokenClaims>;

beforeAll(async () => {
  const signer = await createSigner('ES256');
  const jwks = jwksOf(signer);
  validate = async (overrides) =>
    validateIdToken(await sign(signer, idTokenClaims(overrides)), { issuer: ISSUER, clientId: CLIENT_ID, jwks, nonce: NONCE, now: NOW });
});

describe('decideLocalMfa — DESIGN.md §7 table', () => {
  it.each(rows)('$rule', async (row) => {
    const input: DecideLocalMfaInput = { path: row.path, localMfaEnabled: row.local === 'on', now: NOW };
    if (row.token !== undefined && row.token !== 'none') input.claims = await validate(row.token);
    if (row.maxAge !== undefined) input.maxAuthAgeSeconds = row.maxAge;
    expect(decideLocalMfa(input)).toEqual({ requireLocalMfa: row.requireLocalMfa, reason: row.reason });
  });

  it('is pure: same input, same answer, input untouched', async () => {
    const claims = await validate({ amr: PWD_MFA, auth_time: RECENT });
    const input: DecideLocalMfaInput = { path: 'unified', localMfaEnabled: true, claims, maxAuthAgeSeconds: MAX_AGE, now: NOW };
    const snapshot = JSON.stringify(input);
    expect(decideLocalMfa(input)).toEqual(decideLocalMfa(input));
    expect(JSON.stringify(input)).toBe(snapshot);
  });
});

describe('decideLocalMfa with requirePhishingResistant (an RP that demands a passkey or security key)', () => {
  const STEP_UP = { requireLocalMfa: true, reason: 'unified_not_phishing_resistant', stepUpAcr: 'urn:gatehouse:acr:phr' };
  it.each<[string, 'unified' | 'direct', string[] | undefined, number | undefined, object]>([
    ['password + passkey → bypassed', 'unified', PWD_PASSKEY, undefined, { requireLocalMfa: false, reason: 'unified_mfa_satisfied' }],
    ['passwordless passkey → bypassed', 'unified', PASSWORDLESS, undefined, { requireLocalMfa: false, reason: 'unified_mfa_satisfied' }],
    ['synced passkey → bypassed', 'unified', PWD_SYNCED_PASSKEY, undefined, { requireLocalMfa: false, reason: 'unified_mfa_satisfied' }],
    ['password + TOTP → step up to phr (local TOTP is no more phishing resistant)', 'unified', PWD_MFA, undefined, STEP_UP],
    ['trusted upstream MFA → step up to phr', 'unified', FED_MFA, undefined, STEP_UP],
    ['password only → step up to phr', 'unified', PWD, undefined, STEP_UP],
    ['passkey older than the RP max age → step up to phr', 'unified', PWD_PASSKEY, MAX_AGE, STEP_UP],
    ['direct sign-in is the RP\'s own business: its local 2FA setting decides', 'direct', undefined, undefined, { requireLocalMfa: true, reason: 'direct_local_required' }],
  ])('%s', async (_rule, path, amr, maxAge, expected) => {
    const input: DecideLocalMfaInput = { path, localMfaEnabled: true, now: NOW, requirePhishingResistant: true };
    if (amr) input.claims = await validate({ amr, auth_time: STALE });
    if (maxAge !== undefined) input.maxAuthAgeSeconds = maxAge;
    expect(decideLocalMfa(input)).toEqual(expected);
  });

  it('without claims on the unified path fails closed', () => {
    expect(decideLocalMfa({ path: 'unified', localMfaEnabled: false, requirePhishingResistant: true })).toEqual(STEP_UP);
  });
});
