import { describe, expect, it } from '@jest/globals';
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

describe('documented defaults', () => {
  it('config/defaults.env is generated from the schema (run npm run config:reference > config/defaults.env)', async () => {
    const fs = await import('node:fs');
    const { configReference } = await import('../../../src/config-reference.ts');
    expect(fs.readFileSync(new URL('../../../config/defaults.env', import.meta.url), 'utf8')).toBe(configReference());
  });
});
