// Per-IP limits count an IPv6 client by its /64 (one subscriber's allocation), an IPv4 client by its address.
import { describe, expect, it } from '@jest/globals';
import { clientNetwork } from '../../../src/domain/network.ts';

describe('the network a per-IP limit counts', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['203.0.113.9:51234', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['[2001:db8:1:2::9]', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  ])('%s → %s', (ip, network) => {
    expect(clientNetwork(ip)).toBe(network);
  });

  it('puts every address of one /64 together and another /64 apart', () => {
    const a = ['2001:db8:aa:1::1', '2001:db8:aa:1:ffff:ffff:ffff:ffff', '2001:db8:aa:1:1234::abcd'].map(clientNetwork);
    expect(new Set(a).size).toBe(1);
    expect(clientNetwork('2001:db8:aa:2::1')).not.toBe(a[0]);
  });

  it('counts an unknown or unreadable address as itself, never as nothing', () => {
    expect(clientNetwork(undefined)).toBe('unknown');
    expect(clientNetwork('not an address')).toBe('not an address');
  });
});
