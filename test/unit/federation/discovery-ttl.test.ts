// How long an upstream's discovery document is kept (RFC 9111 max-age, bounded): its Cache-Control
// decides within [1 min, 24 h]; without one, an hour.
import { describe, expect, it } from '@jest/globals';
import { DISCOVERY_TTL, discoveryTtlSeconds } from '../../../src/federation/upstream-client.ts';

describe('discovery document cache lifetime', () => {
  it.each<[string | null, number]>([
    [null, DISCOVERY_TTL.defaultSeconds],
    ['public', DISCOVERY_TTL.defaultSeconds],
    ['public, max-age=600', 600],
    ['Max-Age=7200, must-revalidate', 7200],
    ['max-age="900"', 900],
    ['max-age=5', DISCOVERY_TTL.minSeconds],
    ['max-age=0', DISCOVERY_TTL.minSeconds],
    ['max-age=31536000', DISCOVERY_TTL.maxSeconds],
    ['no-store', DISCOVERY_TTL.minSeconds],
    ['no-cache, max-age=3600', DISCOVERY_TTL.minSeconds],
    ['max-age=soon', DISCOVERY_TTL.defaultSeconds],
  ])('Cache-Control %j → %i s', (header, seconds) => {
    expect(discoveryTtlSeconds(header)).toBe(seconds);
  });
});
