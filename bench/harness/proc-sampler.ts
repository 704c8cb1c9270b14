/**
 * Memory and CPU of one process from /proc (Linux only): resident set size
 * from /proc/<pid>/status and CPU time from /proc/<pid>/stat, sampled on an
 * interval so a benchmark can report the peak and the CPU seconds of a phase.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One reading of a process. */
export interface ProcSample {
  /** Milliseconds since the epoch. */
  at: number;
  /** VmRSS, in bytes. */
  rssBytes: number;
  /** VmHWM: the kernel's own peak resident set size since the process started, in bytes. */
  peakRssBytes: number;
  /** User plus system CPU time since the process started, in seconds. */
  cpuSeconds: number;
}

/** Clock ticks per second that /proc/<pid>/stat counts CPU time in (sysconf _SC_CLK_TCK). */
const clockTicks = readClockTicks();

function readClockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(ticks) && ticks > 0) return ticks;
  } catch {
    // getconf missing: Linux has used 100 on every common architecture for decades.
  }
  return 100;
}

/**
 * Reads one sample of the process. Throws when the process is gone or /proc
 * is not mounted, naming the PID.
 */
export function readProcSample(pid: number): ProcSample {
  let status: string;
  let stat: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read /proc/${pid}: ${(err as Error).message}; the process exited or /proc is not mounted`,
      { cause: err },
    );
  }
  return {
    at: Date.now(),
    rssBytes: statusKilobytes(status, 'VmRSS') * 1024,
    peakRssBytes: statusKilobytes(status, 'VmHWM') * 1024,
    cpuSeconds: statCpuTicks(stat) / clockTicks,
  };
}

function statusKilobytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`/proc status has no ${field} line`);
  return Number(match[1]);
}

/** Returns utime + stime (fields 14 and 15) of a /proc/<pid>/stat line. */
function statCpuTicks(stat: string): number {
  // Field 2 is the command name in parentheses and may contain spaces, so
  // count fields from the last closing parenthesis (field 3 follows it).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`cannot parse CPU times from /proc stat line: ${stat.slice(0, 120)}`);
  }
  return utime + stime;
}

/**
 * Samples a process on an interval until stopped. The peak RSS is the larger
 * of the highest sample and the kernel's VmHWM, so a spike between samples
 * still counts.
 */
export class ProcSampler {
  readonly samples: ProcSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly pid: number,
    private readonly intervalMs = 250,
  ) {}

  /** Takes a first sample at once, then one per interval. */
  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Takes a sample now and returns it (the last good one when the process is gone). */
  sample(): ProcSample {
    try {
      const sample = readProcSample(this.pid);
      this.samples.push(sample);
      return sample;
    } catch (err) {
      const last = this.samples.at(-1);
      if (last) return last;
      throw err;
    }
  }

  /** Stops sampling; the samples stay. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Returns the peak RSS in bytes over the samples taken from `since` on (ms since the epoch). */
  peakRssBytes(since = 0): number {
    let peak = 0;
    for (const sample of this.samples) {
      if (sample.at >= since) peak = Math.max(peak, sample.rssBytes);
    }
    // VmHWM covers the whole life of the process, so it only counts for a window that starts with it.
    const first = this.samples[0];
    if (since <= (first?.at ?? 0)) peak = Math.max(peak, this.samples.at(-1)?.peakRssBytes ?? 0);
    return peak;
  }
}
