import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

export interface CpuSources {
  /** Where the cgroup filesystem is mounted. */
  cgroupRoot?: string;
  /** This process's cgroup membership (`/proc/self/cgroup`). */
  cgroupFile?: string;
  /** CPUs the scheduler lets this process use (affinity); Node's availableParallelism() by default. */
  parallelism?: number;
}

function read(path: string): string | undefined {
  try {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- cgroup files under a fixed root
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** CPUs allowed by a quota and its period, or undefined for "no limit" and anything unreadable. */
function quotaCpus(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  return Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? q / p : undefined;
}

/** The directories of this process's cgroup and of every ancestor: a limit anywhere above applies too. */
function cgroupDirs(base: string, path: string | undefined): string[] {
  const dirs = [base];
  let current = '';
  for (const part of (path ?? '').split('/').filter((p) => p !== '' && p !== '..')) {
    current = join(current, part);
    dirs.push(join(base, current));
  }
  return dirs;
}

/**
 * How many CPUs this process may really use: the smaller of its affinity and its cgroup CPU quota
 * (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`). In a container limited to one
 * CPU on a 64-core host this is 1, not 64. May be fractional (a 1.5 CPU quota gives 1.5); never below 1.
 */
export function usableCpus(sources: CpuSources = {}): number {
  const root = sources.cgroupRoot ?? '/sys/fs/cgroup';
  const membership = read(sources.cgroupFile ?? '/proc/self/cgroup') ?? '';
  let limit = sources.parallelism ?? availableParallelism();
  const apply = (cpus: number | undefined) => {
    if (cpus !== undefined) limit = Math.min(limit, cpus);
  };
  for (const line of membership.split('\n')) {
    const [, controllers, path] = /^[0-9]+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (controllers === undefined) continue;
    if (controllers === '') {
      // cgroup v2: "max 100000" means no limit, "50000 100000" half a CPU.
      for (const dir of cgroupDirs(root, path)) {
        const [quota, period] = (read(join(dir, 'cpu.max')) ?? '').trim().split(/\s+/);
        apply(quotaCpus(quota, period));
      }
    } else if (controllers.split(',').includes('cpu')) {
      // cgroup v1: the cpu controller is mounted as cpu, cpu,cpuacct or cpuacct,cpu; a quota of -1 means no limit.
      for (const mount of ['cpu', 'cpu,cpuacct', 'cpuacct,cpu']) {
        for (const dir of cgroupDirs(join(root, mount), path)) {
          apply(quotaCpus(read(join(dir, 'cpu.cfs_quota_us')), read(join(dir, 'cpu.cfs_period_us'))));
        }
      }
    }
  }
  return Math.max(1, limit);
}
