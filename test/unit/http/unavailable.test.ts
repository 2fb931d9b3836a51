// A store outage is a 503 with Retry-After, never a 500: which errors say "PostgreSQL or Redis is down".
import { describe, expect, it } from '@jest/globals';
import { GatehouseError } from '../../../src/domain/errors.ts';
import { toErrorResponse } from '../../../src/http/errors.ts';
import { isStoreUnavailable } from '../../../src/http/unavailable.ts';

const withCode = (code: string) => Object.assign(new Error('failed'), { code });
class ClientOfflineError extends Error {}

describe('isStoreUnavailable', () => {
  it.each<[string, unknown, boolean]>([
    ['connection refused (node)', withCode('ECONNREFUSED'), true],
    ['connection reset (node)', withCode('ECONNRESET'), true],
    ['PostgreSQL shutting down (57P01)', withCode('57P01'), true],
    ['PostgreSQL starting up (57P03)', withCode('57P03'), true],
    ['PostgreSQL connection failure (08006)', withCode('08006'), true],
    ['pg pool could not connect in time', new Error('timeout exceeded when trying to connect'), true],
    ['pg query timeout', new Error('Query read timeout'), true],
    ['pg connection lost', new Error('Connection terminated unexpectedly'), true],
    ['node-redis offline client (class name)', new ClientOfflineError('whatever'), true],
    ['node-redis closed client', new Error('The client is closed'), true],
    ['Redis loading its data', new Error('LOADING Redis is loading the dataset in memory'), true],
    ['drizzle wrapping a pg outage', Object.assign(new Error('Failed query: select 1'), { cause: withCode('57P01') }), true],
    ['every connect attempt refused (AggregateError)', new AggregateError([withCode('ECONNREFUSED')]), true],
    ['unique violation (23505)', withCode('23505'), false],
    ['a bug', new TypeError('x is undefined'), false],
    ['a GatehouseError speaks for itself', new GatehouseError('conflict', 409, 'taken'), false],
    ['not an error', 'ECONNREFUSED', false],
  ])('%s → %s', (_name, err, expected) => {
    expect(isStoreUnavailable(err)).toBe(expected);
  });

  it('answers 503 temporarily_unavailable with Retry-After', () => {
    expect(toErrorResponse(withCode('ECONNREFUSED'))).toEqual({
      status: 503,
      code: 'temporarily_unavailable',
      message: expect.stringContaining('try again'),
      headers: { 'Retry-After': '5' },
    });
  });
});
