// The process table of Linux's /proc, read once: for the tests (an nginx master's
// workers, a server's memory) and the bench (whose CPU time went where). Elsewhere it is empty.
import { readFileSync, readdirSync } from 'node:fs';

/** pid -> { ppid, ticks (user + system, all threads), comm } of every process now. */
export function processTable() {
  const out = new Map();
  let names;
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'latin1');
      // After the command in parentheses: state, ppid, ...; utime and stime are fields 14-15.
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The resident set of process pid in bytes (VmRSS of /proc/PID/status); undefined when gone or not Linux. */
export function residentBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}
