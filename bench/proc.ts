// What Linux's /proc says about a process and the machine, for the bench's CPU and memory figures.
import { readdirSync, readFileSync } from 'node:fs';

/** A process's stat fields from field 3 on (after the command name, which may hold spaces). */
const statFields = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
};
/** Clock ticks (100 a second) → µs. */
const TICK_US = 10_000;

/** CPU time (user + system) a process has used so far, in µs. */
export const cpuOf = (pid: number) => {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
};

/** The system (kernel) part of cpuOf. */
export const systemCpuOf = (pid: number) => Number(statFields(pid)[12]) * TICK_US;

/** cpuOf a process and its children (PostgreSQL's backends). */
export const treeCpuOf = (pid: number) => {
  let total = cpuOf(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(Number(entry))[1]) === pid) total += cpuOf(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
};

/** A process's resident set, in bytes. */
export const rssOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
};

/** The machine's CPU time so far: idle and total, in ticks (from /proc/stat). */
export const machineTimes = () => {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const idle = cpu[3]! + cpu[4]!;
  return { idle, total: cpu.reduce((a, b) => a + b, 0) };
};

/** How busy the whole machine's CPUs were since `before` (0..1). */
export const busySince = (before: { idle: number; total: number }) => {
  const now = machineTimes();
  return 1 - (now.idle - before.idle) / (now.total - before.total);
};
