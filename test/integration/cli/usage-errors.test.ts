// The `gatehouse` command as a real process refuses bad usage with exit 2 (in text and as JSON) and an
// invalid configuration with exit 1, naming what is wrong. Both are decided before any storage is
// opened, so the outcome is the same in both storage modes and this file runs once (jest.config.js).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { generateSecretKey } from '../../../src/domain/secrets.ts';
import { runCliProcess, tempDataDir, type ProcessEnv } from '../../helpers/processes.ts';

jest.setTimeout(120_000);

describe('gatehouse usage errors exit 2, failures exit 1', () => {
  let env: ProcessEnv;
  let dataDir: Awaited<ReturnType<typeof tempDataDir>>;

  beforeAll(async () => {
    dataDir = await tempDataDir();
    env = { DATA_DIR: dataDir.dir, GATEHOUSE_SECRET_KEY: generateSecretKey() };
  });
  afterAll(() => dataDir.remove());

  it.each([
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['tenant', 'destroy', '--name', 'x'], 'unknown command "tenant destroy"\n'],
    [['--json'], 'no command given'],
    [['user', 'create', '--tenant', 'x', '--password', 'correct horse battery'], '--email is required'],
    [['keys', 'list', '--frob'], "Unknown option '--frob'"],
    [['tenant', 'create', '--kind'], "Option '--kind <value>' argument missing"],
    [[], 'Usage: gatehouse <command>'],
  ])('gatehouse %j → exit 2', async (args, message) => {
    const result = await runCliProcess(args, env);
    expect(result.code).toBe(2);
    expect(`${result.stdout}${result.stderr}`).toContain(message);
  });

  it('reports a usage error as JSON with --json', async () => {
    const result = await runCliProcess(['user', 'create', '--tenant', 'x', '--json'], env);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr)).toMatchObject({ error: 'usage', error_description: expect.stringContaining('--email is required') });
  });

  it('names the bad setting and exits 1 on invalid configuration', async () => {
    const result = await runCliProcess(['keys', 'list'], { ...env, DATABASE_URL: 'mysql://db.example/gatehouse' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL must be a URL starting with postgres:// or postgresql://');
  });
});
