// How every `gatehouse` command reads its flags. A flag given with an empty value is a value the
// operator typed, never read as an absent flag: `idp update --name ""` must be refused naming the
// field, not succeed while keeping the old name, and `--notify ""` must not quietly mean "no notice".
import { describe, expect, it } from '@jest/globals';
import { UsageError, list, need, onOff, str, type Flags } from '../../../src/cli/flags.ts';

describe('CLI flags', () => {
  it.each<[string, Flags, string | undefined]>([
    ['absent', {}, undefined],
    ['given', { name: 'Contoso' }, 'Contoso'],
    ['given empty: kept, for the check or use case to refuse', { name: '' }, ''],
    ['a boolean flag is no string', { name: true }, undefined],
  ])('str: %s', (_, flags, expected) => {
    expect(str(flags, 'name')).toBe(expected);
  });

  it.each<[string, Flags]>([
    ['absent', {}],
    ['given empty', { tenant: '' }],
  ])('need: %s is a usage error naming the flag', (_, flags) => {
    expect(() => need(flags, 'tenant')).toThrow(UsageError); // exit 2
    expect(() => need(flags, 'tenant')).toThrow('--tenant is required');
  });

  it('need: answers a given value', () => {
    expect(need({ tenant: 'contoso' }, 'tenant')).toBe('contoso');
  });

  it.each<[string, Flags, string[] | undefined]>([
    ['absent', {}, undefined],
    ['once', { domain: 'contoso.com' }, ['contoso.com']],
    ['repeated', { domain: ['contoso.com', 'fabrikam.com'] }, ['contoso.com', 'fabrikam.com']],
  ])('list: %s', (_, flags, expected) => {
    expect(list(flags, 'domain')).toEqual(expected);
  });

  it.each<[string, Flags, boolean | undefined]>([
    ['on', { enabled: 'on' }, true],
    ['off', { enabled: 'off' }, false],
    ['absent', {}, undefined],
  ])('onOff: %s', (_, flags, expected) => {
    expect(onOff(flags, 'enabled')).toBe(expected);
  });

  it.each<[string, Flags]>([
    ['given empty', { enabled: '' }],
    ['yes', { enabled: 'yes' }],
  ])('onOff: %s is a usage error', (_, flags) => {
    expect(() => onOff(flags, 'enabled')).toThrow(UsageError);
    expect(() => onOff(flags, 'enabled')).toThrow('--enabled is on or off');
  });
});
