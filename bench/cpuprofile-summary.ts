// Summarises a V8 .cpuprofile (from BENCH_CPU_PROF=<dir> npm run bench) without opening DevTools:
// the functions and the files with the most self time, and the functions with the most inclusive time,
// as shares of the time the thread was busy (idle time is only reported, since a server under a
// benchmark is idle while the other target is measured).
// Run: node --import tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--top 25] [--last <seconds>]
// --last keeps only the final seconds of the profile: the load on this server, not its start-up.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './lib.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, last: { type: 'string' } } });
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: node --import tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--top 25] [--last <seconds>]\n');
  process.exit(2);
}
const top = Number(values.top ?? 25);
const lastUs = values.last === undefined ? Infinity : Number(values.last) * 1e6;
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

const shortUrl = (url: string): string => {
  if (!url) return '';
  const local = url.startsWith('file://') ? url.slice('file://'.length) : url;
  return local.startsWith(REPO_ROOT) ? path.relative(REPO_ROOT, local) : local;
};
const label = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'}  ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
};

// Sample i lasted timeDeltas[i + 1]: V8 records the gap before each sample.
const durations = profile.samples.map((_, i) => profile.timeDeltas[i + 1] ?? 0);
const profileUs = durations.reduce((sum, us) => sum + us, 0);
const selfUs = new Map<number, number>();
let elapsedUs = 0;
let busyUs = 0;
let idleUs = 0;
profile.samples.forEach((id, i) => {
  const us = durations[i]!;
  elapsedUs += us;
  if (profileUs - elapsedUs >= lastUs) return;
  if (byId.get(id)!.callFrame.functionName === '(idle)') {
    idleUs += us;
    return;
  }
  selfUs.set(id, (selfUs.get(id) ?? 0) + us);
  busyUs += us;
});

const selfByFunction = new Map<string, number>();
const selfByFile = new Map<string, number>();
const inclusiveByFunction = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  selfByFunction.set(label(node), (selfByFunction.get(label(node)) ?? 0) + us);
  const fileKey = shortUrl(node.callFrame.url) || `(${node.callFrame.functionName || 'native'})`;
  selfByFile.set(fileKey, (selfByFile.get(fileKey) ?? 0) + us);
  // A recursive function appears several times on one stack; count it once per sample.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const key = label(byId.get(at)!);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusiveByFunction.set(key, (inclusiveByFunction.get(key) ?? 0) + us);
  }
}

if (busyUs === 0) {
  console.log(`${file}: the thread was idle throughout${Number.isFinite(lastUs) ? ` the last ${lastUs / 1e6} s` : ''}.`);
  process.exit(0);
}

const print = (title: string, entries: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [name, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / busyUs).toFixed(1).padStart(6)}%  ${name}`);
  }
};
const window = Number.isFinite(lastUs) ? `the last ${lastUs / 1e6} s` : 'the whole profile';
console.log(`${file}, ${window}: ${(busyUs / 1e6).toFixed(1)} s busy, ${(idleUs / 1e6).toFixed(1)} s idle; shares are of busy time`);
print('self time by function', selfByFunction);
print('self time by file', selfByFile);
print('inclusive time by function', inclusiveByFunction);
