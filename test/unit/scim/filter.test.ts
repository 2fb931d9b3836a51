// SCIM filters (RFC 7644 §3.4.2.2): what parses into which tree, and what is refused with scimType
// invalidFilter (a 400, never a guess and never a 500).
import { describe, expect, it } from '@jest/globals';
import { parseFilter, type Filter } from '../../../src/domain/scim/filter.ts';
import { accountFilter } from '../../../src/domain/scim/service.ts';
import { GatehouseError } from '../../../src/domain/errors.ts';

const eq = (path: string, value: string | number | boolean | null): Filter => ({ kind: 'compare', path, op: 'eq', value });

describe('SCIM filter parser (RFC 7644 §3.4.2.2)', () => {
  it.each<[string, Filter]>([
    ['userName eq "bjensen@example.com"', eq('userName', 'bjensen@example.com')],
    ['userName Eq "a\\"b@example.com"', eq('userName', 'a"b@example.com')],
    ['externalId eq "00u1"', eq('externalId', '00u1')],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"', { kind: 'compare', path: 'urn:ietf:params:scim:schemas:core:2.0:User:userName', op: 'sw', value: 'J' }],
    ['name.familyName co "O\'Malley"', { kind: 'compare', path: 'name.familyName', op: 'co', value: "O'Malley" }],
    ['title pr', { kind: 'present', path: 'title' }],
    ['active eq true', eq('active', true)],
    ['meta.lastModified gt "2011-05-13T04:42:34Z"', { kind: 'compare', path: 'meta.lastModified', op: 'gt', value: '2011-05-13T04:42:34Z' }],
    ['a eq 1 and b eq 2 or c eq 3', { kind: 'or', left: { kind: 'and', left: eq('a', 1), right: eq('b', 2) }, right: eq('c', 3) }],
    ['a eq 1 and (b eq 2 or c eq 3)', { kind: 'and', left: eq('a', 1), right: { kind: 'or', left: eq('b', 2), right: eq('c', 3) } }],
    ['not (a eq null)', { kind: 'not', filter: eq('a', null) }],
    ['userType eq "Employee" and (emails.type eq "work")', { kind: 'and', left: eq('userType', 'Employee'), right: eq('emails.type', 'work') }],
  ])('%s', (input, tree) => {
    expect(parseFilter(input)).toEqual(tree);
  });

  it.each([
    ['', 'empty'],
    ['userName', 'no operator'],
    ['userName eq', 'no value'],
    ['userName eq bjensen', 'unquoted string'],
    ['userName xx "a"', 'unknown operator'],
    ['userName eq "a', 'unterminated string'],
    ['(userName eq "a"', 'missing )'],
    ['userName eq "a" userName eq "b"', 'two expressions without and/or'],
    ['emails[type eq "work"]', 'value path in brackets'],
    ['"a" eq "b"', 'a value where the attribute goes'],
    ['x'.repeat(1001), 'too long'],
  ])('refuses %j (%s) with invalidFilter, 400', (input) => {
    let error: unknown;
    try {
      parseFilter(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ code: 'invalidFilter', status: 400 });
  });
});

describe('SCIM User filter → account columns', () => {
  it('userName compares without letter case, externalId exactly (RFC 7643 §4.1 caseExact)', () => {
    expect(accountFilter(parseFilter('userName eq "Ann@Example.com"'))).toEqual({ kind: 'compare', column: 'email', op: 'eq', value: 'Ann@Example.com', caseExact: false });
    expect(accountFilter(parseFilter('externalId eq "AbC"'))).toEqual({ kind: 'compare', column: 'externalId', op: 'eq', value: 'AbC', caseExact: true });
  });

  it('active maps to the account status, eq false meaning "not active"', () => {
    expect(accountFilter(parseFilter('active eq false'))).toEqual({ kind: 'compare', column: 'status', op: 'ne', value: 'active', caseExact: true });
    expect(accountFilter(parseFilter('active ne false'))).toEqual({ kind: 'compare', column: 'status', op: 'eq', value: 'active', caseExact: true });
  });

  it('meta dates compare as instants', () => {
    expect(accountFilter(parseFilter('meta.created ge "2026-01-01T00:00:00Z"'))).toEqual({ kind: 'compare', column: 'createdAt', op: 'ge', value: new Date('2026-01-01T00:00:00Z'), caseExact: true });
  });

  it.each(['title eq "x"', 'active eq "yes"', 'active co true', 'meta.created gt "yesterday"', 'userName eq 5'])('refuses %j with invalidFilter', (input) => {
    expect(() => accountFilter(parseFilter(input))).toThrow(expect.objectContaining({ code: 'invalidFilter', status: 400 }) as unknown as Error);
  });
});
