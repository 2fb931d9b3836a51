import { describe, expect, it } from '@jest/globals';
import { planInitialKeys, planRotation, publishedKeys, type KeyRecord } from '../../../src/domain/keys.ts';

const t0 = new Date('2026-01-01T00:00:00Z');
const key = (kid: string, alg: string, state: KeyRecord['state'], retireAfter: Date | null = null, createdAt = t0): KeyRecord => ({ kid, alg, state, createdAt, retireAfter });

describe('signing key lifecycle', () => {
  it('first start: every algorithm gets an active key and a published next key', () => {
    expect(planInitialKeys([]).create).toEqual([
      { alg: 'ES256', state: 'active' },
      { alg: 'ES256', state: 'next' },
      { alg: 'RS256', state: 'active' },
      { alg: 'RS256', state: 'next' },
    ]);
    expect(planInitialKeys([key('e1', 'ES256', 'active'), key('e2', 'ES256', 'next'), key('r1', 'RS256', 'active'), key('r2', 'RS256', 'next')]).create).toEqual([]);
  });

  it('rotation: the already-published next key signs, the active one is kept published until its tokens expire, a new next is published', () => {
    const keys = [key('e1', 'ES256', 'active'), key('e2', 'ES256', 'next'), key('r1', 'RS256', 'active'), key('r2', 'RS256', 'next')];
    const now = new Date('2026-02-01T00:00:00Z');
    const plan = planRotation(keys, now, 3600);
    expect(plan.activate).toEqual(['e2', 'r2']);
    expect(plan.retire).toEqual([
      { kid: 'e1', retireAfter: new Date('2026-02-01T01:00:00Z') },
      { kid: 'r1', retireAfter: new Date('2026-02-01T01:00:00Z') },
    ]);
    expect(plan.create).toEqual([
      { alg: 'ES256', state: 'next' },
      { alg: 'RS256', state: 'next' },
    ]);
  });

  it('rotation drops keys whose retirement time has passed', () => {
    const now = new Date('2026-02-01T00:00:00Z');
    const keys = [key('old', 'ES256', 'retiring', new Date('2026-01-31T00:00:00Z')), key('kept', 'ES256', 'retiring', new Date('2026-02-02T00:00:00Z')), key('e1', 'ES256', 'active'), key('e2', 'ES256', 'next')];
    expect(planRotation(keys, now, 60).drop).toEqual(['old']);
  });

  it('publishes signing keys first, then next, then retiring; never retired or expired ones', () => {
    const now = new Date('2026-02-01T00:00:00Z');
    const keys = [
      key('retiring', 'ES256', 'retiring', new Date('2026-02-02T00:00:00Z')),
      key('expired', 'ES256', 'retiring', new Date('2026-01-01T00:00:00Z')),
      key('retired', 'ES256', 'retired'),
      key('next', 'ES256', 'next'),
      key('active', 'ES256', 'active'),
    ];
    expect(publishedKeys(keys, now).map((k) => k.kid)).toEqual(['active', 'next', 'retiring']);
  });
});
