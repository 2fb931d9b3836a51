// Summaries of `node --cpu-prof` profiles: top frames by self time over the measured window, and time
// by module. Shared by `npm run bench:profile` (profile.ts) and its sign-in flows (sign-in-profile.ts).
import fs from 'node:fs';

const TOP = Number(process.env.BENCH_PROFILE_TOP ?? 25);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** `node_modules/<pkg>` (scoped too), `src/<dir>`, or the kind of frame (`(garbage collector)`, `node:…`). */
function moduleOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] as string;
  const src = /\/(src|scripts)\/(.+)$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

/** Samples per profile node over the last `windowSeconds` of the profile, and their total. */
function windowHits(profile: CpuProfile, windowSeconds: number): { hitsOf: Map<number, number>; total: number } {
  const from = profile.endTime - windowSeconds * 1e6;
  const hitsOf = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  profile.samples.forEach((nodeId, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from) return;
    hitsOf.set(nodeId, (hitsOf.get(nodeId) ?? 0) + 1);
    total++;
  });
  return { hitsOf, total };
}

const readProfile = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;

/** Seconds the main thread was busy (not idle) over the last `windowSeconds`: work on other threads (libuv's pool: argon2) is not in it. */
export function mainThreadBusySeconds(file: string, windowSeconds: number): number {
  const profile = readProfile(file);
  const { hitsOf, total } = windowHits(profile, windowSeconds);
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const idle = [...idleIds].reduce((sum, id) => sum + (hitsOf.get(id) ?? 0), 0);
  return total ? (windowSeconds * (total - idle)) / total : 0;
}

/**
 * Top frames by self time over the last `windowSeconds` of the profile: the measured load, which ends
 * right before the server is stopped (start-up, module loading and the warm-up are left out).
 */
export function summarise(file: string, windowSeconds: number): string {
  const profile = readProfile(file);
  const window = windowHits(profile, windowSeconds);
  const { hitsOf } = window;
  const total = window.total || 1;
  const seconds = Math.min(windowSeconds, (profile.endTime - profile.startTime) / 1e6);
  const byFrame = new Map<string, number>();
  const byModule = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = hitsOf.get(n.id) ?? 0;
    if (!hits) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const frame = `${functionName || '(anonymous)'} ${moduleOf(url, functionName)}${url ? `:${lineNumber + 1}` : ''}`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + hits);
    const mod = moduleOf(url, functionName);
    byModule.set(mod, (byModule.get(mod) ?? 0) + hits);
  }
  const pct = (h: number) => `${((100 * h) / total).toFixed(1)}%`;
  const idle = byFrame.get('(idle) (idle)') ?? 0;
  const lines = [`${total} samples over the last ${seconds.toFixed(1)} s (the measured load), busy ${pct(total - idle)}`, '', '| self | frame |', '|---:|---|'];
  for (const [f, h] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, TOP)) lines.push(`| ${pct(h)} | \`${f}\` |`);
  lines.push('', '| self | module |', '|---:|---|');
  for (const [m, h] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`| ${pct(h)} | \`${m}\` |`);
  return lines.join('\n');
}
