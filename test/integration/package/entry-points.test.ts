// What package.json promises outside the repository's own scripts: the `gatehouse` command (bin)
// works whatever `node` is first on PATH, and `gatehouse/relying-party` (exports) resolves to a
// built module with the same API as the source. Both run as separate processes, as a user's would.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'bin', 'gatehouse.js');
const run = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(process.execPath, args, { cwd: options.cwd ?? root, env: { ...process.env, ...options.env }, encoding: 'utf8', timeout: 60_000 });

describe('the gatehouse command (package.json "bin")', () => {
  it('runs the CLI under a Node that can strip types', () => {
    const result = run([bin, 'help']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: gatehouse <command>');
  });

  it('under a Node that cannot strip types, runs again under the Node the project installs', () => {
    const result = run(['--no-experimental-strip-types', bin, 'client', 'create', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--introspect');
  });

  it('says what to install when no suitable Node is available, instead of a syntax error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bin-'));
    try {
      fs.mkdirSync(path.join(dir, 'bin'));
      fs.copyFileSync(bin, path.join(dir, 'bin', 'gatehouse.js'));
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      const result = run(['--no-experimental-strip-types', path.join(dir, 'bin', 'gatehouse.js'), 'help'], { cwd: dir });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('gatehouse needs Node.js 24.11 or later');
      expect(result.stderr).toContain('npm run gatehouse');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gatehouse/relying-party (package.json "exports"), built by npm install (prepare)', () => {
  it('resolves to compiled JavaScript with type declarations, and exports what the source exports', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    const entry = manifest.exports['./relying-party'];
    expect(entry).toBeDefined();
    for (const file of [entry?.default ?? '', entry?.types ?? '']) {
      expect({ file, exists: fs.existsSync(path.join(root, file)) }).toEqual({ file, exists: true });
    }
    const result = run(['--input-type=module', '-e', "const kit = await import('gatehouse/relying-party'); process.stdout.write(JSON.stringify(Object.keys(kit).sort()));"]);
    expect(result.stderr).toBe('');
    const built = JSON.parse(result.stdout) as string[];
    const source = Object.keys(await import('../../../src/relying-party/index.ts')).sort();
    expect(built).toEqual(source);
    expect(built).toEqual(expect.arrayContaining(['validateIdToken', 'validateLogoutToken', 'decideLocalMfa', 'createMemoryReplayStore']));
  });
});
