// Process hygiene: unhandled rejections and uncaught exceptions are logged with their stack and
// counted (muninn_unhandled_errors_total); the process keeps serving.
import type { Logger } from '../log/index.js';
import { Counter, type Registry } from '../metrics/index.js';

export interface Hygiene {
  counter: Counter<'kind'>;
  uninstall(): void;
}

export function installHygiene(log: Logger, registry: Registry): Hygiene {
  const counter = new Counter({
    name: 'muninn_unhandled_errors_total',
    help: 'Unhandled promise rejections and uncaught exceptions; any is a bug.',
    labelNames: ['kind'],
    registers: [registry],
  });
  counter.inc({ kind: 'unhandledRejection' }, 0);
  counter.inc({ kind: 'uncaughtException' }, 0);
  const onRejection = (reason: unknown): void => {
    counter.inc({ kind: 'unhandledRejection' });
    log.error({ err: reason, kind: 'unhandledRejection' }, 'unhandled promise rejection');
  };
  const onException = (err: Error): void => {
    counter.inc({ kind: 'uncaughtException' });
    log.error({ err, kind: 'uncaughtException' }, 'uncaught exception');
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    counter,
    uninstall() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}
