// The argon2id bound: how many password verifications per second this machine does with Gatehouse's
// hashing parameters (the same ARGON2_* variables, the same hasher code) and the bench's concurrency.
// A process of its own, like the server, so it has its own libuv thread pool of the same default size.
//
// Driven over IPC by the bench (load.ts Argon2Worker): {kind:'run', warmupMs, measureMs} → {slice},
// {kind:'info'} → {info}. During a run BENCH_CONCURRENCY verifications are always in flight, from the
// start of the warm-up to the end of the window; one counts when it completes inside the window.
import { loadConfig } from '../../src/config.ts';
import { createPasswordHasher } from '../../src/domain/passwords.ts';

const config = loadConfig(process.env);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const hasher = createPasswordHasher(config.argon2);
const password = 'correct horse battery staple';
const stored = hasher.hash(password);

async function run(warmupMs: number, measureMs: number) {
  const hash = await stored;
  const windowStart = performance.now() + warmupMs;
  const windowEnd = windowStart + measureMs;
  const latencies: number[] = [];
  let count = 0;
  let total = 0;
  const loop = async () => {
    while (performance.now() < windowEnd) {
      const start = performance.now();
      const { ok } = await hasher.verify(hash, password);
      if (!ok) throw new Error('argon2 verification failed');
      const end = performance.now();
      total++;
      if (end >= windowStart && end <= windowEnd) {
        count++;
        latencies.push(end - start);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { count, total, seconds: measureMs / 1000, latencies };
}

interface Message {
  kind?: string;
  warmupMs?: number;
  measureMs?: number;
}

process.on('message', (message: Message) => {
  const reply = async () => {
    if (message.kind === 'run') return { slice: await run(Number(message.warmupMs ?? 0), Number(message.measureMs ?? 1000)) };
    if (message.kind === 'info') {
      return {
        info: {
          params: { m: config.argon2.memoryCost, t: config.argon2.timeCost, p: config.argon2.parallelism },
          threadpool: process.env.UV_THREADPOOL_SIZE ?? '4 (libuv default)',
        },
      };
    }
    return { error: `unknown message ${String(message.kind)}` };
  };
  reply().then(
    (r) => process.send?.(r),
    (e: unknown) => process.send?.({ error: e instanceof Error ? e.message : String(e) }),
  );
});
if (!process.send) {
  process.stderr.write('argon2-bound.ts is driven by the bench over IPC; run `npm run bench`\n');
  process.exit(2);
}
// parent-watch.ts unrefs the channel; this process lives for the bench's messages until it is stopped
process.channel?.ref();
