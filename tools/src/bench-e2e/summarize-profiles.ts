/**
 * `npm run bench:profiles -- <dir>`: summarises the `.cpuprofile` files that `node --cpu-prof` wrote (the
 * benchmark writes one per process with BENCH_CPU_PROFILE_DIR): for each process, where its busy time went,
 * by package (pg, kysely, undici, pino, rabbitmq-client, our own code, Node's internals, garbage
 * collection) and by the functions with the most self time.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Which package or part of the runtime a frame belongs to. */
export function bucketOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)' || functionName === '(program)') return functionName;
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (module) return module;
  if (url.startsWith('node:')) return 'node';
  if (url === '') return 'native';
  const own = /\/(packages|services|simulators|tools)\/([^/]+)\//.exec(url);
  return own ? `${own[1]}/${own[2]}` : 'other';
}

function summarise(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = profile.endTime - profile.startTime;
  const idleUs = [...self]
    .filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)')
    .reduce((s, [, us]) => s + us, 0);
  const busyUs = totalUs - idleUs;
  const buckets = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const bucket = bucketOf(node.callFrame);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
    const file = node.callFrame.url.split('/').slice(-2).join('/');
    const name = `${node.callFrame.functionName || '(anonymous)'} ${file}:${node.callFrame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const share = (us: number) => `${((100 * us) / busyUs).toFixed(1).padStart(5)} %`;
  const lines = [
    `busy ${(busyUs / 1000).toFixed(0)} ms of ${(totalUs / 1000).toFixed(0)} ms`,
    '  by package:',
    ...[...buckets]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `    ${share(us)}  ${name}`),
    '  top functions (self time):',
    ...[...functions]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `    ${share(us)}  ${name}`),
  ];
  return lines.join('\n');
}

const [dir, topArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: npm run bench:profiles -- <directory of .cpuprofile files> [top N]');
  process.exit(2);
}
const top = Number(topArg ?? 15);
for (const file of (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile')).sort()) {
  const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
  const entry = profile.nodes.find((node) =>
    /\/(services|simulators|tools)\/[^/]+\/dist\/.*main\.js$/.test(node.callFrame.url),
  );
  console.log(
    `\n== ${file}${entry ? ` (${entry.callFrame.url.replace(/^.*\/(services|simulators|tools)\//, '$1/')})` : ''}`,
  );
  console.log(summarise(profile, top));
}
