// The whole config: the root options and one group per component.
import { ConfigError, defineGroup, durationOpt, listOpt, stringOpt, type ConfigOf, type Values } from '../config/index.js';
import { distributorConfig, validationConfig } from '../distributor/config.js';
import { distributorRingConfig } from '../distributor/ring-config.js';
import { ingesterConfig, limitsConfig, tsdbConfig } from '../ingester/config.js';
import { ingesterRingConfig } from '../ring/config.js';
import { continuousTestConfig } from '../continuoustest/index.js';
import { querierConfig } from '../querier/config.js';
import { runtimeConfigGroup } from '../runtimeconfig/index.js';
import { serverConfig } from '../server/config.js';
import { formatDuration } from '../util/duration.js';

export const rootConfig = defineGroup('root', {
  target: listOpt('target', 'target', ['all'], 'Comma-separated list of modules to run in this process: all, or any of distributor, ingester, querier, continuous-test (see -modules).'),
  configFile: stringOpt('config.file', null, '', 'YAML configuration file to load; flags given on the command line override its values.'),
  shutdownDelay: durationOpt('shutdown-delay', 'shutdown_delay', 0, 'After SIGTERM, how long to keep serving normally while reporting not ready (/ready 503, gRPC health NOT_SERVING), so load balancers and clients move away before the listeners close.'),
  terminationGracePeriod: durationOpt('shutdown.termination-grace-period', 'shutdown.termination_grace_period', 0, 'Time the process manager allows between SIGTERM and SIGKILL (Kubernetes terminationGracePeriodSeconds); 0 if unknown. When set, start-up fails unless shutdown-delay + server.graceful-shutdown-timeout + 1s fits within it.'),
});

export const schema = {
  root: rootConfig,
  server: serverConfig,
  tsdb: tsdbConfig,
  distributor: distributorConfig,
  distributorRing: distributorRingConfig,
  ingester: ingesterConfig,
  ingesterRing: ingesterRingConfig,
  validation: validationConfig,
  limits: limitsConfig,
  querier: querierConfig,
  runtimeConfig: runtimeConfigGroup,
  continuousTest: continuousTestConfig,
};

export type MuninnConfig = ConfigOf<typeof schema>;
export type RootConfig = Values<typeof rootConfig.options>;

/** grpc-js moves each connection's max age by a random +-10%. */
export const GRPC_CONNECTION_AGE_JITTER = 0.1;

/** Margin left after the graceful-shutdown timeout for stopping the modules and exiting. */
export const SHUTDOWN_MARGIN_MS = 1000;

/**
 * The shutdown budget check (docs/operations/shutdown.md): throws a ConfigError when the shutdown
 * cannot fit in the termination grace period; returns warnings for settings that defeat the
 * shutdown delay.
 */
export function checkShutdownBudget(cfg: MuninnConfig): string[] {
  const warnings: string[] = [];
  const delay = cfg.root.shutdownDelay;
  const drain = cfg.server.gracefulShutdownTimeout;
  const grace = cfg.root.terminationGracePeriod;
  if (grace > 0 && delay + drain + SHUTDOWN_MARGIN_MS > grace) {
    throw new ConfigError(
      `shutdown budget exceeded: -shutdown-delay (${formatDuration(delay)}) + -server.graceful-shutdown-timeout (${formatDuration(drain)}) ` +
        `+ ${formatDuration(SHUTDOWN_MARGIN_MS)} to stop the modules = ${formatDuration(delay + drain + SHUTDOWN_MARGIN_MS)}, ` +
        `more than -shutdown.termination-grace-period (${formatDuration(grace)}), after which the process would be killed mid-shutdown. ` +
        `Lower -shutdown-delay or -server.graceful-shutdown-timeout, or raise the termination grace period (and Kubernetes terminationGracePeriodSeconds with it).`,
    );
  }
  const age = cfg.server.grpcMaxConnectionAge;
  if (Number.isFinite(age) && age > 0) {
    // an infinite grace lets a call started before the GOAWAY keep the old connection open for
    // good, so the sum is infinite and never below the delay
    const ageGrace = cfg.server.grpcMaxConnectionAgeGrace;
    // grpc-js jitters each connection's age by up to +-10%
    if (age * (1 + GRPC_CONNECTION_AGE_JITTER) + ageGrace >= delay) {
      warnings.push(
        `-server.grpc.keepalive.max-connection-age (${formatDuration(age)}) + -server.grpc.keepalive.max-connection-age-grace (${formatDuration(ageGrace)}) ` +
          `(with grpc-js's +10% age jitter: ${formatDuration(Math.ceil(age * (1 + GRPC_CONNECTION_AGE_JITTER) + ageGrace))}) is not below -shutdown-delay (${formatDuration(delay)}): ` +
          'gRPC clients may not reconnect to other instances before this one closes its listener. Raise -shutdown-delay above that, or lower the connection age.',
      );
    }
  }
  return warnings;
}
