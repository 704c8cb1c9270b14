/**
 * The machine a benchmark ran on and how busy it was, so each figure on the
 * results page can be read against the hardware and the load behind it.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Hardware and software of this machine. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
}

/** Returns nproc, the CPU model, total memory, the kernel release and the Node.js version. */
export function machineInfo(): MachineInfo {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    node: process.version,
  };
}

/** Aggregate CPU time counters of /proc/stat, in clock ticks. */
interface CpuTimes {
  busy: number;
  total: number;
}

function readCpuTimes(): CpuTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal; guest time is already in user.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    values;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Machine load over one phase. */
export interface LoadReading {
  /** 1-minute load average at the end of the phase. */
  loadAverage1m: number;
  /** Fraction of all CPUs busy over the phase, every process counted (0 to 1). */
  cpuBusy: number;
}

/** Measures machine-wide CPU use from now until stop() is called. */
export class LoadMeter {
  private readonly start = readCpuTimes();

  /** Returns the load over the time since the meter was created. */
  stop(): LoadReading {
    const end = readCpuTimes();
    const total = end.total - this.start.total;
    return {
      loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
      cpuBusy: total > 0 ? (end.busy - this.start.busy) / total : 0,
    };
  }
}
