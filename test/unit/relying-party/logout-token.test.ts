/** Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6). */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { RelyingPartyError, createMemoryReplayStore, validateLogoutToken } from '../../../src/relying-party/index.ts';
import type { RelyingPartyErrorCode, ValidateLogoutTokenOptions } from '../../../src/relying-party/index.ts';
import { CLIENT_ID, ISSUER, NOW, NOW_SECONDS, createSigner, idTokenClaims, jwksOf, logoutTokenClaims, sign, tamperSignature } from './token-factory.ts';
import type { TestSigner } from './token-factory.ts';

let signer: TestSigner;
let jwks: JWTVerifyGetKey;

beforeAll(async () => {
  signer = await createSigner('ES256');
  jwks = jwksOf(signer);
});

function options(overrides: Partial<ValidateLogoutTokenOptions> = {}): ValidateLogoutTokenOptions {
  // a fresh replay store per validation: these tests reuse one jti on purpose
  return { issuer: ISSUER, clientId: CLIENT_ID, jwks, now: NOW, replayStore: createMemoryReplayStore(() => NOW), ...overrides };
}

async function logoutToken(overrides: JWTPayload = {}, header: Record<string, unknown> = { typ: 'logout+jwt' }): Promise<string> {
  return sign(signer, logoutTokenClaims(overrides), header);
}

async function expectCode(token: string, code: RelyingPartyErrorCode, overrides: Partial<ValidateLogoutTokenOptions> = {}): Promise<void> {
  const outcome = await validateLogoutToken(token, options(overrides)).then(() => 'accepted', (error: unknown) => error);
  expect(outcome).toBeInstanceOf(RelyingPartyError);
  expect((outcome as RelyingPartyError).code).toBe(code);
}

describe('validateLogoutToken accepts', () => {
  it('a token with sub and sid, typ logout+jwt', async () => {
    await expect(validateLogoutToken(await logoutToken(), options())).resolves.toEqual({
      sub: 'acct_7f3a', sid: 'sid-08a1', jti: 'lt-4c1e9b', iat: NOW_SECONDS - 2,
    });
  });

  it('a token with sid only', async () => {
    await expect(validateLogoutToken(await logoutToken({ sub: undefined }), options())).resolves.toEqual({
      sid: 'sid-08a1', jti: 'lt-4c1e9b', iat: NOW_SECONDS - 2,
    });
  });

  it('a token with sub only, typ JWT or absent (older OPs)', async () => {
    const claims = { sid: undefined };
    await expect(validateLogoutToken(await logoutToken(claims, { typ: 'JWT' }), options())).resolves.toMatchObject({ sub: 'acct_7f3a' });
    await expect(validateLogoutToken(await logoutToken(claims, {}), options())).resolves.toMatchObject({ sub: 'acct_7f3a' });
    await expect(validateLogoutToken(await logoutToken(claims, { typ: 'application/logout+jwt' }), options())).resolves.toBeDefined();
  });
});

describe('validateLogoutToken rejects (threat → code)', () => {
  it('an ID token presented as a logout token (nonce present, no events) → missing_events', async () => {
    await expectCode(await sign(signer, idTokenClaims()), 'missing_events');
  });

  it('a nonce, even with the events claim → nonce_present', async () => {
    await expectCode(await logoutToken({ nonce: 'abc' }), 'nonce_present');
  });

  it('no events claim → missing_events', async () => {
    await expectCode(await logoutToken({ events: undefined }), 'missing_events');
  });

  it('events without the back-channel-logout member → missing_events', async () => {
    await expectCode(await logoutToken({ events: { 'http://schemas.openid.net/event/other': {} } }), 'missing_events');
  });

  it('events member that is not an object → missing_events', async () => {
    await expectCode(await logoutToken({ events: { 'http://schemas.openid.net/event/backchannel-logout': true } }), 'missing_events');
  });

  it('neither sub nor sid → missing_sub_and_sid', async () => {
    await expectCode(await logoutToken({ sub: undefined, sid: undefined }), 'missing_sub_and_sid');
  });

  it('no jti → missing_claim', async () => {
    await expectCode(await logoutToken({ jti: undefined }), 'missing_claim');
  });

  it('no iat → missing_claim', async () => {
    await expectCode(await logoutToken({ iat: undefined }), 'missing_claim');
  });

  it('tampered signature → invalid_signature', async () => {
    await expectCode(tamperSignature(await logoutToken()), 'invalid_signature');
  });

  it('wrong audience → audience_mismatch', async () => {
    await expectCode(await logoutToken({ aud: 'other-app' }), 'audience_mismatch');
  });

  it('wrong issuer → issuer_mismatch', async () => {
    await expectCode(await logoutToken({ iss: 'http://evil.test' }), 'issuer_mismatch');
  });

  it('expired → expired', async () => {
    await expectCode(await logoutToken({ iat: NOW_SECONDS - 600, exp: NOW_SECONDS - 1 }), 'expired');
  });

  it('older than the RP accepts → expired', async () => {
    await expectCode(await logoutToken({ iat: NOW_SECONDS - 400, exp: undefined }), 'expired', { maxTokenAgeSeconds: 300 });
  });

  it('another explicit type (an access token) → invalid_typ', async () => {
    await expectCode(await logoutToken({}, { typ: 'at+jwt' }), 'invalid_typ');
  });
});

describe('validateLogoutToken bounds how long and how often a token works (§2.6 step 8)', () => {
  const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000);

  it('a token without exp is refused once older than the default two minutes → expired', async () => {
    await expectCode(await logoutToken({ iat: NOW_SECONDS - 180, exp: undefined }), 'expired');
    await expect(validateLogoutToken(await logoutToken({ iat: NOW_SECONDS - 60, exp: undefined }), options())).resolves.toMatchObject({ jti: 'lt-4c1e9b' });
  });

  it('a far-future exp does not extend the age limit → expired', async () => {
    await expectCode(await logoutToken({ iat: NOW_SECONDS - 600, exp: NOW_SECONDS + 86400 }), 'expired');
  });

  it('the same token a second time → replayed, with the same store and also with the default one', async () => {
    const replayStore = createMemoryReplayStore(() => NOW);
    const token = await logoutToken();
    await validateLogoutToken(token, options({ replayStore }));
    await expectCode(token, 'replayed', { replayStore });

    // the default store keeps time by the system clock, so this token is issued now
    const issued = Math.floor(Date.now() / 1000) - 2;
    const unique = await logoutToken({ jti: `lt-default-${Math.random()}`, iat: issued, exp: issued + 120 });
    const byDefault = { issuer: ISSUER, clientId: CLIENT_ID, jwks };
    await validateLogoutToken(unique, byDefault);
    const again = await validateLogoutToken(unique, byDefault).then(() => 'accepted', (e: unknown) => (e as RelyingPartyError).code);
    expect(again).toBe('replayed');
  });

  it('a refused token does not spend its jti, so the genuine token still works', async () => {
    const replayStore = createMemoryReplayStore(() => NOW);
    await expectCode(await logoutToken({ aud: 'other-app' }), 'audience_mismatch', { replayStore });
    await expectCode(await logoutToken({ nonce: 'x' }), 'nonce_present', { replayStore });
    await expect(validateLogoutToken(await logoutToken(), options({ replayStore }))).resolves.toMatchObject({ jti: 'lt-4c1e9b' });
  });

  it('the same jti for another client of the same issuer is another token', async () => {
    const replayStore = createMemoryReplayStore(() => NOW);
    await validateLogoutToken(await logoutToken(), options({ replayStore }));
    await expect(validateLogoutToken(await logoutToken({ aud: 'second-app' }), options({ replayStore, clientId: 'second-app' }))).resolves.toBeDefined();
  });

  it('a jti is remembered until the token would be refused anyway, then forgotten', async () => {
    let now = NOW;
    const store = createMemoryReplayStore(() => now);
    expect(store.firstUse('a', NOW_SECONDS + 120)).toBe(true);
    now = at(119);
    expect(store.firstUse('a', NOW_SECONDS + 240)).toBe(false);
    now = at(121);
    expect(store.firstUse('a', NOW_SECONDS + 241)).toBe(true);
  });
});
