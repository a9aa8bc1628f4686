// Where the CPU time went during a load run (Linux /proc only; elsewhere every
// function returns undefined). The bench pins the server to one CPU, so:
//   server%  the server process's CPU time (all threads) over the run, of one core (with
//            several pids, e.g. nginx's master and worker and the app behind it, their sum);
//   other%   time the server's CPU was busy (user, system, irq) NOT on the server process:
//            other processes (a compiler, a test run ...) stealing the server's core;
//   irq%     interrupt + softirq time on that CPU (loopback networking shows here);
//   steal%   time the hypervisor gave to another guest;
//   client%  how busy the load generator's CPU was (100%: the load generator is the limit);
//   other on the client's CPU: its busy time not spent by the load generator or
//            this runner (both pinned there). The load generator's time is read from this
//            process's cutime/cstime once the load generator has been reaped.
import { spawnSync } from 'node:child_process';
import { cpuTimes, processTable, procStat } from '../../test/lib/proc.mjs';

const HZ = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** [own utime + stime, reaped children's cutime + cstime] of a process, in ticks. */
function procTicks(pid) {
  const s = procStat(pid);
  return s === undefined ? undefined : [s.ticks, s.childTicks];
}

/** pid -> [CPU ticks, command name] of every process (threads included in their process). */
function allProcs() {
  return new Map([...processTable()].map(([pid, p]) => [pid, [p.ticks, p.comm]]));
}

/** The server's pids as a list: one pid, or several (nginx's master and workers + the app). */
export const pidList = (serverPids) => (serverPids === undefined ? [] : Array.isArray(serverPids) ? serverPids : [serverPids]);

/**
 * A snapshot to pass to cpuSince() later: take it before starting the load generator.
 * serverPids: the server's pid, or a list of pids whose CPU time counts as the server's.
 */
export function cpuSnapshot(serverPids) {
  const pids = pidList(serverPids);
  const per = {};
  for (const pid of pids) per[pid] = procTicks(pid)?.[0];
  return {
    t: process.hrtime.bigint(),
    cpus: cpuTimes(),
    per,
    self: procTicks(process.pid),
    procs: allProcs(),
  };
}

/**
 * Percentages since a snapshot; serverCpu/clientCpu are CPU numbers (or undefined: whole
 * machine). With several server pids, serverPct is their sum and perPidPct each one's.
 */
export function cpuSince(before, serverPids, serverCpu, clientCpu) {
  const pids = pidList(serverPids);
  const after = cpuSnapshot(pids);
  if (!before.cpus || !after.cpus) return undefined;
  const wall = Number(after.t - before.t) / 1e9;
  const pct = (ticks) => Math.round((1000 * ticks) / HZ / wall) / 10;
  const delta = (cpu) => {
    const a = after.cpus[cpu];
    const b = before.cpus[cpu];
    if (!a || !b) return undefined;
    return { user: a.user - b.user, system: a.system - b.system, idle: a.idle - b.idle, irq: a.irq - b.irq, steal: a.steal - b.steal };
  };
  const out = { seconds: Math.round(wall * 10) / 10 };
  // The processes, not ours, that used the most CPU meanwhile (those that came and went
  // during the run are not seen).
  const busiest = [];
  for (const [pid, [ticks, comm]] of after.procs) {
    if (pids.includes(pid) || pid === process.pid) continue;
    const used = ticks - (before.procs.get(pid)?.[0] ?? 0);
    if (used > 0) busiest.push({ pid, comm, pct: pct(used) });
  }
  busiest.sort((a, b) => b.pct - a.pct);
  out.busiestOthers = busiest.filter((b) => b.pct >= 1).slice(0, 3);
  let serverTicks = pids.length ? 0 : undefined;
  for (const pid of pids) {
    const b = before.per[pid];
    const a = after.per[pid];
    if (a === undefined || b === undefined) {
      serverTicks = undefined;
      break;
    }
    serverTicks += a - b;
  }
  if (serverTicks !== undefined) out.serverPct = pct(serverTicks);
  if (pids.length > 1) {
    out.perPidPct = {};
    for (const pid of pids) {
      if (before.per[pid] !== undefined && after.per[pid] !== undefined) out.perPidPct[pid] = pct(after.per[pid] - before.per[pid]);
    }
  }
  if (serverCpu !== undefined) {
    const d = delta(serverCpu);
    if (d) {
      // A process's stime includes the softirq time spent in its context (loopback
      // networking), so irq is counted in the CPU's busy time before taking the server's off.
      if (serverTicks !== undefined) out.otherOnServerCpuPct = Math.max(0, pct(d.user + d.system + d.irq - serverTicks));
      out.irqOnServerCpuPct = pct(d.irq);
      out.stealOnServerCpuPct = pct(d.steal);
    }
  }
  if (clientCpu !== undefined) {
    const d = delta(clientCpu);
    if (d) {
      out.clientCpuBusyPct = pct(d.user + d.system + d.irq);
      out.stealOnClientCpuPct = pct(d.steal);
      if (before.self && after.self) {
        const ours = after.self[0] - before.self[0] + (after.self[1] - before.self[1]);
        out.otherOnClientCpuPct = Math.max(0, pct(d.user + d.system + d.irq - ours));
      }
    }
  }
  return out;
}

/** How busy the machine is with nothing of ours running: busy % of all CPUs over ms. */
export async function machineBusy(ms = 1000) {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  if (!a || !b) return undefined;
  let busy = 0;
  let all = 0;
  for (const k of Object.keys(b)) {
    if (!a[k]) continue;
    const d = (f) => b[k][f] - a[k][f];
    busy += d('user') + d('system') + d('irq') + d('steal');
    all += d('user') + d('system') + d('irq') + d('steal') + d('idle');
  }
  return { busyPct: all ? Math.round((1000 * busy) / all) / 10 : 0, cpus: Object.keys(b).length };
}

/** The share of the server's (or the load generator's) CPU others had during a run
 * (cpuSince's fields): other processes + hypervisor steal. */
export function stolenPct(cpu, side = 'Server') {
  if (!cpu || cpu[`otherOn${side}CpuPct`] === undefined) return undefined;
  return Math.round(10 * (cpu[`otherOn${side}CpuPct`] + (cpu[`stealOn${side}CpuPct`] ?? 0))) / 10;
}

/** What others took of the worse of our two CPUs during a run (0 when not known). */
export function worstStolen(cpu) {
  return Math.max(stolenPct(cpu, 'Server') ?? 0, stolenPct(cpu, 'Client') ?? 0);
}
