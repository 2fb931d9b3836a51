// WORKERS (src/cluster.ts): with PostgreSQL + Redis one Gatehouse process serves its port from several
// workers; /metrics on any of them counts the requests of all; SIGHUP replaces them one by one without
// refusing or stranding a request (and gives up, keeping the old workers, when a replacement dies
// before it listens), a stopping worker leaves only once the primary no longer hands it connections,
// SIGTERM stops everything cleanly.
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateSecretKey } from '../../../src/domain/secrets.ts';
import { postgresUnderTest } from '../../helpers/db.ts';
import { redisUnderTest } from '../../helpers/redis.ts';
import { createScratchPostgresDatabase, jsonLogLines, startGatehouseProcess, tempDataDir, type GatehouseProcess, type ScratchDatabase } from '../../helpers/processes.ts';

/**
 * Each request on a new connection, so the primary hands it to a worker that is listening. A request
 * that is never answered counts as a failure (0) after 20 s instead of holding the test up: a worker
 * that left the cluster with a connection still on its way to it left that client waiting forever.
 */
async function discovery(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/.well-known/openid-configuration`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(20_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** The fields of /proc/<pid>/stat after the command name (state, parent pid, …); undefined once it is gone. */
function procStat(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** 'gone' once reaped, 'zombie' once exited but not yet reaped (its parent is stopped), else 'running'. */
function processState(pid: number): 'running' | 'zombie' | 'gone' {
  const stat = procStat(pid);
  if (!stat) return 'gone';
  return stat[0] === 'Z' ? 'zombie' : 'running';
}

/** The processes whose parent is `pid`. */
const childrenOf = (pid: number): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && procStat(d)?.[1] === String(pid))
    .map(Number);

// the primary's log lines that end a restart (src/cluster.ts)
const RESTARTED = 'workers restarted';
const RESTART_GIVEN_UP = 'restarting the workers stopped; the remaining old workers keep serving';

const started = (g: GatehouseProcess) => jsonLogLines(g.stdout()).filter((l) => l.msg === 'Gatehouse started');

// Workers need shared state, so this runs on the local PostgreSQL and Redis in the embedded mode too.
describe('WORKERS on PostgreSQL + Redis', () => {
  let scratch: ScratchDatabase;
  let dataDir: Awaited<ReturnType<typeof tempDataDir>>;
  let gatehouse: GatehouseProcess | undefined;

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase(postgresUnderTest());
    dataDir = await tempDataDir();
    gatehouse = await startGatehouseProcess(
      { DATABASE_URL: scratch.url, REDIS_URL: redisUnderTest(), GATEHOUSE_SECRET_KEY: generateSecretKey(), DATA_DIR: dataDir.dir, WORKERS: '2', LOG_LEVEL: 'info' },
      { timeoutMs: 280_000 },
    );
    // /healthz answered: one worker listens; wait (without a clock) until both said they started
    while (started(gatehouse).length < 2) await sleep(100);
  }, 300_000);
  afterAll(async () => {
    await gatehouse?.stop();
    await scratch?.drop();
    dataDir?.remove();
  });

  it('serves the port from two worker processes, and only the first prints the start banner', () => {
    const g = gatehouse as GatehouseProcess;
    const pids = new Set(started(g).map((l) => l.pid));
    expect(pids.size).toBe(2);
    expect(pids.has(g.child.pid)).toBe(false);
    expect(g.stdout().split('Gatehouse is running:').length - 1).toBe(1);
  });

  it('reports on /metrics the requests of every worker, whichever worker answers', async () => {
    const g = gatehouse as GatehouseProcess;
    // new connections go round-robin to the two workers: each serves about half of them
    const requests = 10;
    for (let i = 0; i < requests; i++) expect(await discovery(g.url)).toBe(200);
    const discoveryCount = (text: string) =>
      [...text.matchAll(/^http_requests_total\{[^}]*route="\/\.well-known[^"]*"[^}]*status="200"[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${g.url}/metrics`, { headers: { connection: 'close' } });
      expect(res.status).toBe(200);
      expect(discoveryCount(await res.text())).toBe(requests);
    }
  });

  it('replaces every worker on SIGHUP while requests keep being answered', async () => {
    const g = gatehouse as GatehouseProcess;
    const before = new Set(started(g).map((l) => l.pid));
    const outcome = () => jsonLogLines(g.stdout()).find((l) => l.msg === RESTARTED || l.msg === RESTART_GIVEN_UP);
    g.child.kill('SIGHUP');
    const statuses: number[] = [];
    while (!outcome()) statuses.push(await discovery(g.url));
    for (let i = 0; i < 5; i++) statuses.push(await discovery(g.url));
    expect(outcome()?.msg).toBe(RESTARTED);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const now = started(g).map((l) => l.pid).filter((pid) => !before.has(pid));
    expect(new Set(now).size).toBe(2);
    // a worker starts in seconds; on a loaded 2-CPU machine two of them, one after the other, can take minutes
  }, 300_000);

  it('gives up a restart whose replacement dies before it listens, and starts no worker beyond WORKERS', async () => {
    const g = gatehouse as GatehouseProcess;
    const primary = g.child.pid as number;
    const workers = childrenOf(primary).sort();
    expect(workers).toHaveLength(2);
    const givenUp = () => jsonLogLines(g.stdout()).filter((l) => l.msg === RESTART_GIVEN_UP).length;
    const before = givenUp();
    g.child.kill('SIGHUP');
    let replacement: number | undefined;
    while (!(replacement = childrenOf(primary).find((pid) => !workers.includes(pid)))) await sleep(10);
    process.kill(replacement, 'SIGKILL');
    while (givenUp() === before) await sleep(50);
    // a worker that dies is replaced after half a second; a replacement that died is not
    await sleep(2_000);
    expect(childrenOf(primary).sort()).toEqual(workers);
    expect(await discovery(g.url)).toBe(200);
  }, 120_000);

  it('lets a stopping worker exit only once the primary has stopped handing it connections', async () => {
    // The primary hands each new connection to a worker over IPC and holds it until the worker answers;
    // a worker gone before the primary took it out of the round robin would leave a client hanging.
    const g = gatehouse as GatehouseProcess;
    const pid = Number(started(g).at(-1)?.pid);
    const startedBefore = started(g).length;
    const shuttingDown = () => jsonLogLines(g.stdout()).some((l) => l.pid === pid && l.msg === 'shutting down');
    g.child.kill('SIGSTOP');
    try {
      process.kill(pid, 'SIGTERM');
      while (!shuttingDown()) await sleep(50);
      // its own shutdown takes well under a second here; then it waits for the stopped primary
      await sleep(3_000);
      expect(processState(pid)).toBe('running');
    } finally {
      g.child.kill('SIGCONT');
    }
    while (processState(pid) !== 'gone') await sleep(50);
    // a worker stopped from outside is replaced
    while (started(g).length === startedBefore) await sleep(100);
    expect(await discovery(g.url)).toBe(200);
  }, 120_000);

  it('stops every worker and exits 0 on SIGTERM', async () => {
    const exit = await (gatehouse as GatehouseProcess).stop();
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
