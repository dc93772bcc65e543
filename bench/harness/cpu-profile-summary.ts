/**
 * Takes V8 CPU profiles of the measured windows and says where each process's time went: by package
 * (grpc-js, protobufjs, OpenTelemetry, our own services, garbage collection, ...) and by function. Idle time is
 * left out, so the shares are of the time the process was busy.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface TimeShare {
  name: string;
  ms: number;
  percent: number;
}

export interface ProcessProfileSummary {
  /** Process name (service, echo, loadgen). */
  process: string;
  file: string;
  busyMs: number;
  byPackage: TimeShare[];
  topFunctions: TimeShare[];
}

/** Which package (or part of the mesh) a script URL belongs to. */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node core';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') && parts[0] !== '@maas' ? `${parts[0]}/${parts[1]}` : parts[0] === '@maas' ? `maas ${parts[1]}` : parts[0]!;
  }
  const service = /\/services\/([^/]+)\//.exec(url);
  if (service) return `maas ${service[1]}`;
  const library = /\/libs\/([^/]+)\//.exec(url);
  if (library) return `maas ${library[1]}`;
  return 'other';
}

function top(map: Map<string, number>, busyMs: number, count: number): TimeShare[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: Math.round((ms / busyMs) * 1000) / 10 }));
}

export function summarizeProfile(profile: CpuProfile): { busyMs: number; byPackage: Map<string, number>; byFunction: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  // timeDeltas[i] is the time from the previous sample to sample i; the interval after a sample is its own.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + Math.max(0, delta));
  }
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyMs = 0;
  for (const [id, micros] of selfMicros) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)' || frame.functionName === '(root)') continue;
    const ms = micros / 1000;
    busyMs += ms;
    const pkg = packageOf(frame.url, frame.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const where = frame.url ? ` ${frame.url.split('/').slice(-1)[0]}:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'}${where} [${pkg}]`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  return { busyMs, byPackage, byFunction };
}

function summarizeFile(file: string, processName: string): ProcessProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { busyMs, byPackage, byFunction } = summarizeProfile(profile);
  return { process: processName, file, busyMs: Math.round(busyMs), byPackage: top(byPackage, busyMs, 8), topFunctions: top(byFunction, busyMs, 12) };
}

const profilesOf = (dir: string, pid: number) => new Set(readdirSync(dir).filter((name) => name.startsWith(`profile.${pid}.`) && name.endsWith('.cpuprofile')));

/**
 * Starts profiling the named processes (each loaded cpu-profile-preload.cjs, which toggles on SIGUSR2; the
 * load generator itself, `process.pid`, is profiled in-process). The returned function stops every profile,
 * waits for the files and summarizes them.
 */
export function startProfiling(dir: string, pids: Record<string, number>): () => Promise<ProcessProfileSummary[]> {
  const before = new Map(Object.values(pids).map((pid) => [pid, profilesOf(dir, pid)]));
  const own = Object.entries(pids).find(([, pid]) => pid === process.pid);
  const others = Object.entries(pids).filter(([, pid]) => pid !== process.pid);
  const session = own ? new inspector.Session() : undefined;
  if (session) {
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.start');
  }
  for (const [, pid] of others) process.kill(pid, 'SIGUSR2');
  return async () => {
    const summaries: ProcessProfileSummary[] = [];
    if (session && own) {
      const profile = await new Promise<CpuProfile>((resolve, reject) =>
        session.post('Profiler.stop', (error, result) => (error ? reject(error) : resolve(result.profile as unknown as CpuProfile))),
      );
      session.disconnect();
      const file = path.join(dir, `profile.${process.pid}.${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      summaries.push(summarizeFile(file, own[0]));
    }
    for (const [, pid] of others) process.kill(pid, 'SIGUSR2');
    const deadline = Date.now() + 15_000;
    for (const [name, pid] of others) {
      let fresh: string | undefined;
      while (!(fresh = [...profilesOf(dir, pid)].find((file) => !before.get(pid)!.has(file))) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      if (fresh) summaries.push(summarizeFile(path.join(dir, fresh), name));
    }
    return summaries;
  };
}
