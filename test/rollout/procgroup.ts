// Process groups started detached by the rollout test (Prometheus, the continuous test): killed
// with SIGKILL when this process exits, however it exits (the signal handlers of main.ts turn
// SIGINT/SIGTERM into an exit).
const groups = new Set<number>();
let installed = false;

export function trackGroup(pid: number): void {
  groups.add(pid);
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const g of groups) {
      try {
        process.kill(-g, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
}

export function untrackGroup(pid: number): void {
  groups.delete(pid);
}

const pids = new Set<number>();
let pidHook = false;

/** A (non-detached) child to SIGKILL when this process exits. */
export function trackPid(pid: number): void {
  pids.add(pid);
  if (pidHook) return;
  pidHook = true;
  process.on('exit', () => {
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
}

export function untrackPid(pid: number): void {
  pids.delete(pid);
}
