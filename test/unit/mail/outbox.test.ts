import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../src/http/logger.ts';
import { createMailer } from '../../../src/mail/mailer.ts';
import { createOutboxMailer, outboxFileName } from '../../../src/mail/outbox.ts';
import { captureLines } from '../http/_serve.ts';

/** Minimal RFC 5322 reader: unfolded headers (lower-case names) and the body. */
function parseEml(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  expect(split).toBeGreaterThan(0);
  const headers = new Map<string, string>();
  for (const line of raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(split + 4) };
}

describe('outbox mailer (no SMTP_URL)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-outbox-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('writes a parseable .eml with To, From, Subject, Date and Message-ID to DATA_DIR/outbox', async () => {
    const capture = captureLines();
    const mailer = createMailer({ smtpUrl: undefined, mailFrom: 'Gatehouse <no-reply@gatehouse.test>', dataDir }, createLogger({ logLevel: 'info' }, capture));
    await mailer.send({
      to: 'ada@example.com',
      subject: 'Multi-factor authentication was reset — état',
      text: 'Open https://id.example.com/reset/SECRET-LINK-TOKEN to continue.',
      html: '<p>Open <a href="https://id.example.com/reset/SECRET-LINK-TOKEN">this link</a>.</p>',
    });

    const outbox = path.join(dataDir, 'outbox');
    const files = await readdir(outbox);
    expect(files).toHaveLength(1);
    const file = files[0] ?? '';
    expect(file).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{8}\.eml$/);
    expect((await stat(path.join(outbox, file))).mode & 0o077).toBe(0);

    const raw = await readFile(path.join(outbox, file), 'utf8');
    expect(raw).toContain('\r\n'); // RFC 5322 line endings
    const { headers, body } = parseEml(raw);
    expect(headers.get('to')).toBe('ada@example.com');
    expect(headers.get('from')).toBe('Gatehouse <no-reply@gatehouse.test>');
    expect(headers.get('subject')).toMatch(/^=\?UTF-8\?/); // non-ASCII subject is MIME-encoded
    expect(Number.isNaN(Date.parse(headers.get('date') ?? ''))).toBe(false);
    expect(headers.get('message-id')).toMatch(/^<[^<>@\s]+@[^<>@\s]+>$/);
    expect(headers.get('mime-version')).toBe('1.0');
    expect(headers.get('content-type')).toMatch(/^multipart\/alternative/);
    expect(body).toMatch(/text\/plain/);
    expect(body).toMatch(/text\/html/);

    // One log line with recipient, subject and file — never the body with its link.
    const line = capture.lines.find((l) => l.msg === 'mail written to outbox');
    expect(line).toMatchObject({ to: 'ada@example.com', component: 'mail', file: path.join(outbox, file) });
    expect(JSON.stringify(capture.lines)).not.toContain('SECRET-LINK-TOKEN');
  });

  it('writes one file per message, never overwriting', async () => {
    const dir = path.join(dataDir, 'many');
    const mailer = createOutboxMailer({ dir, from: 'x@gatehouse.test', logger: createLogger({ logLevel: 'silent' }), now: () => new Date('2025-03-01T14:05:00Z') });
    await Promise.all([1, 2, 3].map((i) => mailer.send({ to: `u${i}@example.com`, subject: `s${i}`, text: 't' })));
    const files = await readdir(dir);
    expect(files).toHaveLength(3);
    expect(files.every((f) => f.startsWith('20250301T140500000Z-'))).toBe(true);
  });

  it('uses the injected clock for the Date header', async () => {
    const dir = path.join(dataDir, 'dated');
    const at = new Date('2025-03-01T14:05:00Z');
    const mailer = createOutboxMailer({ dir, from: 'x@gatehouse.test', logger: createLogger({ logLevel: 'silent' }), now: () => at });
    await mailer.send({ to: 'a@example.com', subject: 'Hi', text: 'plain only' });
    const [file] = await readdir(dir);
    const { headers } = parseEml(await readFile(path.join(dir, file ?? ''), 'utf8'));
    expect(new Date(headers.get('date') ?? '').toISOString()).toBe(at.toISOString());
    expect(headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('refuses header injection in To or Subject', async () => {
    const mailer = createOutboxMailer({ dir: path.join(dataDir, 'bad'), from: 'x@gatehouse.test', logger: createLogger({ logLevel: 'silent' }) });
    await expect(mailer.send({ to: 'a@example.com\r\nBcc: evil@example.com', subject: 's', text: 't' })).rejects.toMatchObject({ code: 'mail_invalid' });
    await expect(mailer.send({ to: 'a@example.com', subject: 's\nBcc: evil@example.com', text: 't' })).rejects.toMatchObject({ code: 'mail_invalid' });
  });

  it('names files so they sort by time', () => {
    const a = outboxFileName(new Date('2025-01-01T00:00:00Z'));
    const b = outboxFileName(new Date('2025-01-01T00:00:01Z'));
    expect(a < b).toBe(true);
  });
});
