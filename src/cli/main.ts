#!/usr/bin/env node
// The muninn binary: load the config, start the modules of -target, and run the shutdown
// sequence on SIGTERM or SIGINT. A second signal during shutdown exits at once with code 1.
import { App } from '../app/app.js';
import { isEntryPoint } from '../util/entry-point.js';
import { buildInfo } from '../app/build-info.js';
import { checkShutdownBudget, type MuninnConfig, schema } from '../app/config.js';
import { installHygiene } from '../app/hygiene.js';
import { ConfigError, loadConfig, renderHelp } from '../config/index.js';
import { createLogger, type Logger } from '../log/index.js';
import { createRegistry } from '../metrics/index.js';

export interface MainOptions {
  /** Called before start: lets tests and embedders register extra modules and routes. */
  setup?: (app: App) => void;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
}

/** Runs Muninn with the given arguments; resolves with the process exit code. */
export async function main(argv: readonly string[], opts: MainOptions = {}): Promise<number> {
  const out = opts.stdout ?? ((s: string) => process.stdout.write(s));
  const err = opts.stderr ?? ((s: string) => process.stderr.write(s));
  let config: MuninnConfig;
  let warnings: string[];
  try {
    const loaded = loadConfig(schema, argv);
    switch (loaded.action) {
      case 'help':
        out(renderHelp(schema, 'muninn'));
        return 0;
      case 'version': {
        const b = buildInfo();
        out(`muninn, version ${b.version} (revision: ${b.revision}, branch: ${b.branch})\n  build date: ${b.buildDate}\n  node: ${process.version}\n`);
        return 0;
      }
      case 'modules': {
        const tmp = new App({ config: loaded.config, log: createLogger('silent'), registry: createRegistry() });
        opts.setup?.(tmp);
        out(tmp.modules.userVisibleNames().map((n) => `${n}\n`).join(''));
        return 0;
      }
      case 'run':
        break;
      default: {
        const never: never = loaded.action;
        throw new Error(`unknown action ${String(never)}`);
      }
    }
    config = loaded.config;
    warnings = checkShutdownBudget(config);
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }

  const log = createLogger(config.server.logLevel);
  const registry = createRegistry();
  const hygiene = installHygiene(log, registry);
  for (const w of warnings) log.warn({ component: 'config' }, w);
  const app = new App({ config, log, registry });
  opts.setup?.(app);

  const onSignal = (sig: NodeJS.Signals): void => {
    if (app.currentPhase() === 'starting' || app.currentPhase() === 'serving') {
      log.info({ signal: sig }, 'received signal: shutting down');
      void app.shutdown(`signal ${sig}`);
      return;
    }
    log.error({ signal: sig }, 'received a second signal during shutdown: exiting now');
    process.exit(1);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    return await app.run();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    hygiene.uninstall();
    logFlush(log);
  }
}

function logFlush(log: Logger): void {
  try {
    log.flush();
  } catch {
    // a synchronous destination has nothing to flush
  }
}

if (isEntryPoint(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // servers and timers are closed; anything left (a stuck socket) must not keep us alive
      setTimeout(() => process.exit(code), 100).unref();
    },
    (e: unknown) => {
      process.stderr.write(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
