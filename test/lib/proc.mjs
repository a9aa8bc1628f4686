// Linux's /proc, the one reader of it for the tests and the bench (and SIGKILL by pid) (bench/lib/cpu.mjs and
// bench/lib/nginx.mjs import it from here: the tests are its larger user, and the bench
// already shares test/lib/nginx-core.mjs). Only node: modules. Every reader returns
// undefined (or an empty list) for a process that is gone, or where there is no /proc.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** The text of /proc/PATH ("123/status", "sys/net/core/somaxconn"), or undefined. */
export function readProc(path) {
  try {
    return readFileSync(`/proc/${path}`, 'latin1');
  } catch {
    return undefined;
  }
}

/**
 * /proc/PID/stat as { comm, state, ppid, pgrp, session, ticks (utime + stime, all
 * threads), childTicks (cutime + cstime of reaped children) }, or undefined.
 */
export function procStat(pid) {
  const s = readProc(`${pid}/stat`);
  if (s === undefined) return undefined;
  // After the command in parentheses: state, ppid, pgrp, session, ...; utime, stime,
  // cutime and cstime are fields 14-17 of proc(5).
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return {
    comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')),
    state: f[0],
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    session: Number(f[3]),
    ticks: Number(f[11]) + Number(f[12]),
    childTicks: Number(f[13]) + Number(f[14]),
  };
}

/** /proc/PID/status as a Map of field -> value text ("VmRSS" -> "1234 kB"), or undefined. */
export function procStatus(pid) {
  const s = readProc(`${pid}/status`);
  if (s === undefined) return undefined;
  const out = new Map();
  for (const line of s.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return out;
}

/** The first number of a /proc/PID/status field (Uid, Gid: the real one), or undefined. */
export function statusNumber(pid, field) {
  const v = procStatus(pid)?.get(field);
  return v === undefined ? undefined : Number(/^\d+/.exec(v)?.[0]);
}

/** The resident set of process pid in bytes (VmRSS of /proc/PID/status); undefined when gone or not Linux. */
export function residentBytes(pid) {
  const kib = statusNumber(pid, 'VmRSS');
  return kib === undefined ? undefined : kib * 1024;
}

/** The soft limit of open files of pid ("Max open files" of /proc/PID/limits): a number, or Infinity. */
export function nofileLimit(pid) {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readProc(`${pid}/limits`) ?? '');
  if (m === null) return undefined;
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** The command line of pid, its arguments joined by spaces, or undefined. */
export function cmdline(pid) {
  return readProc(`${pid}/cmdline`)?.split('\0').join(' ').trim();
}

/** The open file descriptors of process pid (default: this one), as { fd: target }. */
export function openFds(pid = 'self') {
  const out = {};
  let names;
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of names) {
    try {
      out[fd] = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      // closed while listing (the listing's own descriptor)
    }
  }
  return out;
}

/** How many descriptors process pid (default: this one) has open; 0 when it is gone. */
export function fdCount(pid = 'self') {
  return Object.keys(openFds(pid)).length;
}

/** The pids of pid's children (every thread's), from /proc/PID/task/TID/children, in order. */
export function childrenOf(pid) {
  const out = new Set();
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const tid of tasks) {
    for (const c of (readProc(`${pid}/task/${tid}/children`) ?? '').trim().split(/\s+/)) {
      if (c !== '') out.add(Number(c));
    }
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * True once pid is gone: process.kill(pid, 0) throws ESRCH, or it is a zombie orphan
 * that its new parent does not reap. In some sandboxes pid 1 does not reap orphans, so a
 * worker that outlived its master (--no-orphans, or a master killed with SIGKILL) stays a
 * zombie there once it exits: such a zombie (state Z, its parent no longer the master)
 * counts as gone; a zombie of a live master does not (the master must reap its
 * workers). master: the pid of its master (-1: none).
 */
export function isGone(pid, master) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code === 'ESRCH') return true;
    throw err;
  }
  const st = procStat(pid);
  if (st === undefined) return true;
  return st.state === 'Z' && st.ppid !== master && st.ppid !== process.pid;
}

/** pid with its state and parent, for a failure's message. */
export function describePid(pid) {
  const st = procStat(pid);
  return st === undefined ? `${pid} (gone)` : `${pid} (state ${st.state}, ppid ${st.ppid})`;
}

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
    const s = procStat(name);
    if (s !== undefined) out.set(Number(name), { ppid: s.ppid, ticks: s.ticks, comm: s.comm });
  }
  return out;
}

/** Every descendant pid of pid, from the process table: each child, then its own descendants. */
export function descendantsOf(pid) {
  const children = new Map();
  for (const [child, p] of processTable()) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(child);
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/**
 * The time each CPU spent, from /proc/stat, in clock ticks: { N: { user (user + nice),
 * system, idle (idle + iowait), irq (irq + softirq), steal } }, or undefined.
 */
export function cpuTimes() {
  const text = readProc('stat');
  if (text === undefined) return undefined;
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    out[m[1]] = { user: f[0] + f[1], system: f[2], idle: f[3] + f[4], irq: f[5] + f[6], steal: f[7] ?? 0 };
  }
  return out;
}

/** SIGKILL to each pid, one by one (-PGID: a process group); a pid already gone is passed over. */
export function sigkill(pids) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
