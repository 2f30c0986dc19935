// Log forwarding for the local cluster: each process's JSON lines as one short text line with
// the process's name in front. Quiet mode keeps warnings, errors and anything not JSON (a crash's
// stack trace); verbose mode keeps everything.
import type { LogLine, Proc } from '../../test/proc.js';

export type LogSink = (line: string) => void;

const HIDDEN = new Set(['level', 'time', 'pid', 'msg', 'hostname']);

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/** One log line as `HH:MM:SS.mmm <who> LEVEL msg key=value ...`. */
export function formatLine(who: string, l: LogLine, width = 14): string {
  const time = typeof l.time === 'string' && l.time.length >= 23 ? l.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const level = (l.level ?? 'info').toUpperCase().padEnd(5);
  const kv = Object.entries(l).filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => `${k}=${value(v)}`);
  return `${time} ${who.padEnd(width)} ${level} ${l.msg ?? ''}${kv.length > 0 ? ` ${kv.join(' ')}` : ''}`;
}

/** Whether quiet mode shows the line. */
export function isNotable(l: LogLine): boolean {
  return l.level !== 'info' && l.level !== 'debug' && l.level !== 'trace';
}

/**
 * HAProxy output quiet mode shows: server state changes (its log, on stdout) and alerts (stderr),
 * not the access log, and not the stderr copies of the state changes.
 */
export function isNotableHaproxy(line: string, stream: 'stdout' | 'stderr'): boolean {
  if (stream === 'stdout') return /^(Server \S+ is (UP|DOWN)|backend \S+ has no server available)/.test(line);
  return /\[ALERT\]/.test(line) && !/has no server available/.test(line);
}

/**
 * Forwards a process's log lines (those already read and every later one) to the sink, and its
 * stderr. With `maxLines`, keeps at most that many lines in the process's line array (for a
 * long-lived cluster; tests that read the lines leave it unset).
 */
export function forwardProcLogs(who: string, p: Proc, o: { sink: LogSink; verbose: boolean; maxLines?: number; width?: number }): void {
  let seen = 0;
  const flush = (): void => {
    for (; seen < p.lines.length; seen++) {
      const l = p.lines[seen] as LogLine;
      if (o.verbose || isNotable(l)) o.sink(formatLine(who, l, o.width));
    }
    if (o.maxLines !== undefined && p.lines.length > o.maxLines) {
      const drop = p.lines.length - o.maxLines;
      p.lines.splice(0, drop);
      seen -= drop;
    }
  };
  flush();
  // registered after the reader of test/proc.ts, so the lines of a chunk are parsed when this runs
  p.child.stdout?.on('data', flush);
  p.child.stdout?.on('end', flush);
  const errLine = (line: string): void => o.sink(`${new Date().toISOString().slice(11, 23)} ${who.padEnd(o.width ?? 14)} STDERR ${line}`);
  let errSeen = 0;
  const flushErr = (): void => {
    for (; errSeen < p.stderr.length; errSeen++) for (const line of (p.stderr[errSeen] as string).split('\n')) if (line !== '') errLine(line);
  };
  flushErr();
  p.child.stderr?.on('data', flushErr);
}
