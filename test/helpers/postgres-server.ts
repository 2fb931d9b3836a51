// A PostgreSQL cluster a test starts for itself (initdb + pg_ctl, from the PostgreSQL binaries of the
// machine) in a temporary directory on a free port, which the test may restart. PostgreSQL refuses to
// run as root, so under root the commands run as the `postgres` user.
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const run = promisify(execFile);

function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const versions = fs
    .readdirSync('/usr/lib/postgresql')
    .filter((v) => fs.existsSync(path.join('/usr/lib/postgresql', v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql (set PG_BIN)');
  return path.join('/usr/lib/postgresql', versions[0], 'bin');
}

export interface ScratchPostgres {
  url: string;
  /** fast shutdown, `downMs` without a server, start again on the same port and data. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startScratchPostgres(): Promise<ScratchPostgres> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]) : run(path.join(bin, tool), args);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-pg-'));
  const data = path.join(dir, 'data');
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    fs.chownSync(dir, uid, gid);
  }
  const port = await freePort();
  await pg('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const start = () => pg('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-o', options, '-w', 'start']);
  const stopServer = () => pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart(downMs) {
      await stopServer();
      await sleep(downMs);
      await start();
    },
    async stop() {
      await stopServer().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
