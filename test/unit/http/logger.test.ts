import { describe, expect, it } from '@jest/globals';
import { REDACTED, createLogger } from '../../../src/http/logger.ts';
import { captureLines } from './_serve.ts';

describe('logger redaction', () => {
  it('never writes passwords, codes, client secrets, tokens, cookies or authorization headers', () => {
    const capture = captureLines();
    const log = createLogger({ logLevel: 'info' }, capture);
    log.info(
      {
        password: 'hunter2',
        body: { email: 'a@b.c', password: 'hunter2', code: '123456', _csrf: 'csrf-token' },
        query: { code: 'authcode' },
        client: { client_secret: 's3cret' },
        req: { headers: { authorization: 'Bearer abc', cookie: 'sid=1', 'user-agent': 'jest' } },
        res: { headers: { 'set-cookie': 'sid=2' } },
        tokens: { access_token: 'at', refresh_token: 'rt', id_token: 'it' },
        recovery_code: 'abcd-efgh',
      },
      'event',
    );
    const line = capture.lines[0] ?? {};
    const text = JSON.stringify(line);
    for (const secret of ['hunter2', '123456', 'csrf-token', 'authcode', 's3cret', 'Bearer abc', 'sid=1', 'sid=2', '"at"', '"rt"', '"it"', 'abcd-efgh']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain(REDACTED);
    expect(text).toContain('a@b.c');
    expect(text).toContain('jest');
  });

  it('keeps error codes, which are not secrets', () => {
    const capture = captureLines();
    const log = createLogger({ logLevel: 'info' }, capture);
    log.error({ err: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }, 'db down');
    const line = capture.lines[0] ?? {};
    expect(line).toMatchObject({ level: 'error', name: 'gatehouse', msg: 'db down', err: { code: 'ECONNREFUSED' } });
    expect(typeof line.time).toBe('string');
  });

  it('honours the configured level', () => {
    const capture = captureLines();
    createLogger({ logLevel: 'silent' }, capture).error('nothing');
    expect(capture.lines).toHaveLength(0);
  });
});

describe('database error messages', () => {
  it('keep the failed statement but not its parameters', async () => {
    const { serializeError } = await import('../../../src/http/logger.ts');
    const err = new Error('Failed query: select * from accounts where lower(email) = $1\nparams: ada@example.com');
    const out = serializeError(err);
    expect(out.message).toBe('Failed query: select * from accounts where lower(email) = $1\nparams: [redacted]');
    expect(JSON.stringify(out)).not.toContain('ada@example.com');
  });
});
