import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../../../src/config.ts';

describe('configuration validation', () => {
  it('applies documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.issuer).toBe('http://localhost:3000');
    expect(c.argon2).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(c.lockout).toEqual({ threshold: 5, baseSeconds: 900, maxSeconds: 86400 });
  });

  it.each([
    [{ PORT: 'abc' }, /PORT must be a number/],
    [{ PORT: '70000' }, /PORT must be at most 65535/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a URL starting with postgres:\/\//],
    [{ REDIS_URL: 'nope' }, /REDIS_URL must be a URL/],
    [{ ISSUER: 'ftp://x' }, /ISSUER must be a URL/],
    [{ TRUST_PROXY: 'maybe' }, /TRUST_PROXY/],
    [{ MFA_LOCKOUT_THRESHOLD: '0' }, /MFA_LOCKOUT_THRESHOLD must be at least 1/],
    [{ NODE_ENV: 'production', ISSUER: 'https://id.example.com' }, /GATEHOUSE_SECRET_KEY must be set in production/],
  ])('rejects %p with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('strips a trailing slash from the issuer', () => {
    expect(loadConfig({ ISSUER: 'https://id.example.com/' }).issuer).toBe('https://id.example.com');
  });
});

describe('production refuses settings that would be unsafe there', () => {
  const realKey = () => randomBytes(32).toString('base64');
  const good = () => ({
    NODE_ENV: 'production',
    ISSUER: 'https://id.acme-corp.io',
    TRUST_PROXY: 'true',
    GATEHOUSE_SECRET_KEY: realKey(),
    DATABASE_URL: 'postgres://gatehouse:v3ry-l0ng-r4ndom-pa55@db.internal:5432/gatehouse',
    SMTP_URL: 'smtps://gatehouse:9d1c0f7e2b@smtp.acme-corp.io:465',
  });

  it('starts with real values', () => {
    expect(loadConfig(good()).env).toBe('production');
  });

  it('refuses config/production.env.example as it stands, naming each placeholder', () => {
    const example = Object.fromEntries(
      readFileSync(new URL('../../../config/production.env.example', import.meta.url), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(() => loadConfig(example)).toThrow(/GATEHOUSE_SECRET_KEY must be set/);
    const withKey = { ...example, GATEHOUSE_SECRET_KEY: realKey() };
    expect(() => loadConfig(withKey)).toThrow(/ISSUER https:\/\/id\.example\.com is an example address/);
    expect(() => loadConfig(withKey)).toThrow(/DATABASE_URL has a placeholder password/);
    expect(() => loadConfig(withKey)).toThrow(/SMTP_URL has a placeholder password/);
    expect(() => loadConfig(withKey)).toThrow(/METRICS_TOKEN is a placeholder/);
  });

  it.each([
    [{ GATEHOUSE_SECRET_KEY: 'CHANGE_ME' }, /GATEHOUSE_SECRET_KEY is a placeholder or not random/],
    [{ GATEHOUSE_SECRET_KEY: Buffer.alloc(32).toString('base64') }, /GATEHOUSE_SECRET_KEY is a placeholder or not random/],
    [{ GATEHOUSE_SECRET_KEY: Buffer.from('0123456789abcdef0123456789abcdef').toString('base64') }, /GATEHOUSE_SECRET_KEY is a placeholder or not random/],
    [{ DATABASE_URL: 'postgres://gatehouse:password@db:5432/gatehouse' }, /DATABASE_URL has a placeholder password/],
    [{ REDIS_URL: 'redis://:changeme@redis:6379' }, /REDIS_URL has a placeholder password/],
    [{ SMTP_URL: 'smtps://u:<password>@smtp.acme-corp.io:465' }, /SMTP_URL has a placeholder password/],
    [{ METRICS_TOKEN: 'replace-me-with-a-long-random-token-value' }, /METRICS_TOKEN is a placeholder/],
    [{ ISSUER: 'https://login.example.org' }, /is an example address/],
    [{ FETCH_ALLOW_PRIVATE_NETWORKS: 'true' }, /FETCH_ALLOW_PRIVATE_NETWORKS=true .* development and tests only/],
    [{ TRUST_PROXY: 'false' }, /ISSUER is https but TRUST_PROXY is false/],
  ])('refuses %p', (change, message) => {
    expect(() => loadConfig({ ...good(), ...change })).toThrow(ConfigError);
    expect(() => loadConfig({ ...good(), ...change })).toThrow(message);
  });

  it('allows the same values outside production (local development)', () => {
    expect(loadConfig({ ...good(), NODE_ENV: 'development', FETCH_ALLOW_PRIVATE_NETWORKS: 'true', TRUST_PROXY: 'false', GATEHOUSE_SECRET_KEY: Buffer.alloc(32).toString('base64') }).fetchAllowPrivateNetworks).toBe(true);
  });
});

describe('passkeys: relying-party ID (WebAuthn §5.1.3)', () => {
  it("defaults to the issuer's host, with the issuer's origin", () => {
    expect(loadConfig({ ISSUER: 'https://login.example.net:8443/' }).webauthn).toEqual({ rpId: 'login.example.net', origin: 'https://login.example.net:8443' });
  });

  it("accepts a parent domain of the issuer's host", () => {
    expect(loadConfig({ ISSUER: 'https://login.example.net', WEBAUTHN_RP_ID: 'example.net' }).webauthn.rpId).toBe('example.net');
  });

  it.each([
    [{ ISSUER: 'https://login.example.net', WEBAUTHN_RP_ID: 'other.net' }, /WEBAUTHN_RP_ID other.net must be the issuer's host \(login.example.net\) or a parent domain of it/],
    [{ ISSUER: 'https://login.example.net', WEBAUTHN_RP_ID: 'ample.net' }, /WEBAUTHN_RP_ID ample.net must be/],
    [{ WEBAUTHN_RP_ID: 'https://example.net' }, /WEBAUTHN_RP_ID must be a lower-case host name/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('proxy, limits and metrics settings', () => {
  it('reads the proxy hop count and the login limits', () => {
    const c = loadConfig({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '2', LOGIN_MAX_PER_ACCOUNT_IP: '3', LOGIN_MAX_PER_ACCOUNT: '30' });
    expect(c.trustProxyHops).toBe(2);
    expect(c.limits).toMatchObject({ loginPerAccountIp: 3, loginPerAccount: 30, loginPerIp: 100 });
    expect(loadConfig({}).stepUpPasswordMaxAgeSeconds).toBe(3600);
    expect(loadConfig({ STEP_UP_PASSWORD_MAX_AGE_SECONDS: '600' }).stepUpPasswordMaxAgeSeconds).toBe(600);
  });

  it.each([
    [{ TRUST_PROXY_HOPS: '0' }, /TRUST_PROXY_HOPS must be at least 1/],
    [{ METRICS_TOKEN: 'short' }, /METRICS_TOKEN must be at least 32 characters/],
    [{ PORT: '3000', METRICS_PORT: '3000' }, /METRICS_PORT must differ from PORT/],
  ])('rejects %p', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('documented defaults', () => {
  it('config/defaults.env is generated from the schema (run npm run -s config:reference > config/defaults.env)', async () => {
    const fs = await import('node:fs');
    const { configReference } = await import('../../../src/config-reference.ts');
    expect(fs.readFileSync(new URL('../../../config/defaults.env', import.meta.url), 'utf8')).toBe(configReference());
  });
});
