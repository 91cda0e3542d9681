import fs from 'node:fs';

/** Linux counts process CPU time in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const MS_PER_TICK = 10;

function stat(pid: number): string[] | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, with its waited-for children's, in ms. */
export function processCpuMs(pid: number): number {
  const fields = stat(pid);
  if (!fields) return 0;
  // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * MS_PER_TICK;
}

/** CPU time of a process and every live descendant: PostgreSQL's postmaster and its backends. */
export function processTreeCpuMs(rootPid: number): number {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = stat(Number(entry));
    if (fields) parents.set(Number(entry), Number(fields[1]));
  }
  const inTree = (pid: number): boolean => {
    for (let current: number | undefined = pid; current && current > 1; current = parents.get(current)) {
      if (current === rootPid) return true;
    }
    return false;
  };
  let total = 0;
  for (const pid of parents.keys()) if (inTree(pid)) total += processCpuMs(pid);
  return total;
}

/** The postmaster of a cluster, from the first line of its postmaster.pid. */
export function postmasterPid(dataDirectory: string): number {
  return Number(fs.readFileSync(`${dataDirectory}/postmaster.pid`, 'utf8').split('\n')[0]);
}
