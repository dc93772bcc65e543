/**
 * Where the CPU went during a measurement: per process (from /proc/<pid>/stat, every thread included, so ONNX
 * Runtime's workers count for inference) and for the whole machine (from /proc/stat). With two cores shared by
 * the load generator and up to four services, these shares say which process is the bottleneck, and the
 * machine's "other" share says whether something outside the benchmark disturbed it. Linux only; elsewhere the
 * numbers are simply absent.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** CPU use over one measurement, in percent of one core (so two busy cores read 200). */
export interface CpuShares {
  /** Per named process, e.g. { loadgen: 48, gateway: 71 }. */
  processes: Record<string, number>;
  /** Everything the machine's cores did (all processes), in percent of one core. */
  machine: number;
  /** machine minus the named processes: someone else's work, or the kernel's. */
  other: number;
  /** Cores the machine has (the most `machine` can read is 100 × cores). */
  cores: number;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of `pid` in seconds, or undefined when /proc cannot tell. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return undefined;
  }
}

/** Busy seconds summed over all cores, or undefined off Linux. */
function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (user! + nice! + system! + irq! + softirq! + steal!) / clockTicks();
  } catch {
    return undefined;
  }
}

interface Snapshot {
  at: number;
  processes: Map<string, number>;
  machine: number | undefined;
}

function snapshot(pids: Record<string, number>): Snapshot {
  const processes = new Map<string, number>();
  for (const [name, pid] of Object.entries(pids)) {
    const seconds = pid === process.pid ? process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 : processCpuSeconds(pid);
    if (seconds !== undefined) processes.set(name, seconds);
  }
  return { at: performance.now(), processes, machine: machineBusySeconds() };
}

/** Starts measuring the named processes; the returned function ends the measurement and gives the shares. */
export function startCpuMeasurement(pids: Record<string, number>): () => CpuShares | undefined {
  const start = snapshot(pids);
  return () => {
    const end = snapshot(pids);
    const seconds = (end.at - start.at) / 1000;
    if (seconds <= 0 || start.machine === undefined || end.machine === undefined) return undefined;
    const percent = (delta: number) => Math.round((delta / seconds) * 1000) / 10;
    const processes: Record<string, number> = {};
    let named = 0;
    for (const [name, before] of start.processes) {
      const after = end.processes.get(name);
      if (after === undefined) continue;
      processes[name] = percent(after - before);
      named += after - before;
    }
    const machineDelta = end.machine - start.machine;
    return { processes, machine: percent(machineDelta), other: Math.max(0, percent(machineDelta - named)), cores: cpus().length };
  };
}

/**
 * Waits (up to `maxWaitMs`) until the whole machine is nearly idle — between windows the benchmark's own
 * processes are, so what is left is other work sharing the cores. Resolves with the last busy share seen and
 * how long it waited; when the machine never calms down it measures anyway, and the window's `other` share
 * says so.
 */
export async function waitForQuietMachine(options: {
  maxBusyPercent: number;
  maxWaitMs: number;
  sampleMs?: number;
}): Promise<{ waitedMs: number; busyPercent: number }> {
  const started = performance.now();
  const sampleMs = options.sampleMs ?? 500;
  for (;;) {
    const before = machineBusySeconds();
    const at = performance.now();
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const after = machineBusySeconds();
    if (before === undefined || after === undefined) return { waitedMs: 0, busyPercent: 0 };
    const busyPercent = ((after - before) / ((performance.now() - at) / 1000)) * 100;
    const waitedMs = performance.now() - started;
    if (busyPercent <= options.maxBusyPercent || waitedMs >= options.maxWaitMs) return { waitedMs, busyPercent };
  }
}
