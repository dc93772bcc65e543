/**
 * How many CPUs this process may really use, for sizing worker pools and ONNX Runtime threads by default.
 *
 * `os.availableParallelism()` counts the CPUs the process may be scheduled on (affinity, cpuset), but not a CPU
 * *quota*: a Kubernetes pod with `limits.cpu: 4` on a 64-core node still sees 64, and a pool of 64 threads
 * there is throttled by the kernel's CFS bandwidth control (every thread stalls until the next period) instead
 * of running. So the quota is read from the cgroup the process is in, on every level up to the root (a parent's
 * limit caps its children), and the smaller of the two counts wins:
 * - cgroup v2 (`/sys/fs/cgroup/cgroup.controllers` exists): `cpu.max` is `"<quota> <period>"` or `"max <period>"`;
 * - cgroup v1: `cpu.cfs_quota_us` (-1: none) over `cpu.cfs_period_us`, in the `cpu` controller's hierarchy.
 * The process's own cgroup comes from `/proc/self/cgroup`; when that path does not exist under the mount (a
 * container without its own cgroup namespace sees the host's path but has its own cgroup mounted at the root),
 * the mount root is read instead.
 *
 * A fractional quota rounds down (1.5 CPUs → 1), never below 1: a pool sized to the rounded-up count would
 * spend the last part of every period throttled.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface AvailableCpus {
  /** Whole CPUs to size pools by: at least 1. */
  cpus: number;
  /** Where the count comes from. */
  source: 'cgroup-v2' | 'cgroup-v1' | 'os';
  /** The cgroup quota in CPUs (may be fractional), when one applies. */
  quota?: number;
}

export interface AvailableCpusOptions {
  /** Directory that stands for `/` (tests point it at a fixture tree). Default `/`. */
  root?: string;
  /** CPUs the scheduler offers; default `os.availableParallelism()`. */
  parallelism?: number;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The cgroup path of the process for a v1 controller, or the v2 path (controller `''`), from /proc/self/cgroup. */
function cgroupPath(procSelfCgroup: string | undefined, controller: string): string | undefined {
  for (const line of procSelfCgroup?.split('\n') ?? []) {
    // hierarchy-id:controller,list:path (the path may itself contain ':')
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const matches = controller === '' ? line.slice(0, first) === '0' && controllers === '' : controllers.split(',').includes(controller);
    if (matches) return line.slice(second + 1) || '/';
  }
  return undefined;
}

/**
 * The smallest limit `readLimit` finds in `mount` + `relative` and each directory above it, up to `mount`.
 * Starts at the mount root when the process's own directory is not there (see the file comment).
 */
function smallestLimit(mount: string, relative: string, readLimit: (dir: string) => number | undefined): number | undefined {
  let dir = path.join(mount, relative);
  if (!dir.startsWith(mount) || !fs.existsSync(dir)) dir = mount;
  let smallest: number | undefined;
  for (;;) {
    const limit = readLimit(dir);
    if (limit !== undefined && (smallest === undefined || limit < smallest)) smallest = limit;
    if (dir === mount || dir.length <= mount.length) return smallest;
    dir = path.dirname(dir);
  }
}

/** `cpu.max` → CPUs, undefined for `max` or an unreadable file. */
function cgroupV2Limit(dir: string): number | undefined {
  const [quota, period] = readText(path.join(dir, 'cpu.max'))?.split(/\s+/) ?? [];
  if (!quota || quota === 'max') return undefined;
  return positiveRatio(Number(quota), Number(period ?? 100_000));
}

/** `cpu.cfs_quota_us` / `cpu.cfs_period_us` → CPUs, undefined for -1 (no quota) or unreadable files. */
function cgroupV1Limit(dir: string): number | undefined {
  const quota = Number(readText(path.join(dir, 'cpu.cfs_quota_us')));
  const period = Number(readText(path.join(dir, 'cpu.cfs_period_us')) ?? 100_000);
  return positiveRatio(quota, period);
}

function positiveRatio(quota: number, period: number): number | undefined {
  return Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0 ? quota / period : undefined;
}

/** The cgroup CPU quota of the process, in CPUs, and which cgroup version it comes from; undefined for none. */
function cgroupQuota(root: string): { quota: number; source: 'cgroup-v2' | 'cgroup-v1' } | undefined {
  const cgroupFs = path.join(root, 'sys', 'fs', 'cgroup');
  const procSelfCgroup = readText(path.join(root, 'proc', 'self', 'cgroup'));
  if (fs.existsSync(path.join(cgroupFs, 'cgroup.controllers'))) {
    const quota = smallestLimit(cgroupFs, cgroupPath(procSelfCgroup, '') ?? '/', cgroupV2Limit);
    return quota === undefined ? undefined : { quota, source: 'cgroup-v2' };
  }
  // v1: the cpu controller is mounted alone or together with cpuacct, under one of these names.
  const mount = ['cpu,cpuacct', 'cpuacct,cpu', 'cpu'].map((name) => path.join(cgroupFs, name)).find((dir) => fs.existsSync(path.join(dir, 'cpu.cfs_quota_us')));
  if (!mount) return undefined;
  const quota = smallestLimit(mount, cgroupPath(procSelfCgroup, 'cpu') ?? '/', cgroupV1Limit);
  return quota === undefined ? undefined : { quota, source: 'cgroup-v1' };
}

/** The CPUs this process may use: the cgroup quota (rounded down) when it is below what the scheduler offers. */
export function availableCpus(options: AvailableCpusOptions = {}): AvailableCpus {
  const parallelism = Math.max(1, options.parallelism ?? os.availableParallelism());
  const found = cgroupQuota(options.root ?? '/');
  if (!found) return { cpus: parallelism, source: 'os' };
  const fromQuota = Math.max(1, Math.floor(found.quota));
  return fromQuota < parallelism ? { cpus: fromQuota, source: found.source, quota: found.quota } : { cpus: parallelism, source: 'os', quota: found.quota };
}
