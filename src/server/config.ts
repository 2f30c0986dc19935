// The server component's options: Mimir's (dskit server) flag names, YAML keys and defaults.
import { defineGroup, durationOpt, enumOpt, intOpt, stringOpt, boolOpt, type Values } from '../config/index.js';

const MiB = 1024 * 1024;

export const serverConfig = defineGroup('server', {
  httpListenAddress: stringOpt('server.http-listen-address', 'server.http_listen_address', '', 'HTTP server listen address; empty listens on all addresses.'),
  httpListenPort: intOpt('server.http-listen-port', 'server.http_listen_port', 8080, 'HTTP server listen port; 0 picks a free port.', { min: 0, max: 65535 }),
  grpcListenAddress: stringOpt('server.grpc-listen-address', 'server.grpc_listen_address', '', 'gRPC server listen address; empty listens on all addresses.'),
  grpcListenPort: intOpt('server.grpc-listen-port', 'server.grpc_listen_port', 9095, 'gRPC server listen port; 0 picks a free port.', { min: 0, max: 65535 }),
  gracefulShutdownTimeout: durationOpt('server.graceful-shutdown-timeout', 'server.graceful_shutdown_timeout', 30_000, 'Longest wait, once the listeners are closed, for in-flight HTTP requests and gRPC calls to finish; past it they are cut.'),
  httpReadTimeout: durationOpt('server.http-read-timeout', 'server.http_server_read_timeout', 30_000, 'Longest time to read a whole HTTP request, body included; 0 disables.'),
  httpWriteTimeout: durationOpt('server.http-write-timeout', 'server.http_server_write_timeout', 120_000, 'Longest time from the end of reading a request to the end of writing its response; 0 disables.'),
  httpIdleTimeout: durationOpt('server.http-idle-timeout', 'server.http_server_idle_timeout', 120_000, 'Longest time an idle keep-alive HTTP connection is kept open.'),
  grpcMaxRecvMsgSize: intOpt('server.grpc-max-recv-msg-size-bytes', 'server.grpc_server_max_recv_msg_size', 100 * MiB, 'Largest gRPC message the server accepts, in bytes.', { min: 1 }),
  grpcMaxSendMsgSize: intOpt('server.grpc-max-send-msg-size-bytes', 'server.grpc_server_max_send_msg_size', 100 * MiB, 'Largest gRPC message the server sends, in bytes.', { min: 1 }),
  grpcMaxConcurrentStreams: intOpt('server.grpc-max-concurrent-streams', 'server.grpc_server_max_concurrent_streams', 100, 'Most concurrent gRPC streams (calls) per client connection.', { min: 1 }),
  grpcMaxConnectionIdle: durationOpt('server.grpc.keepalive.max-connection-idle', 'server.grpc_server_max_connection_idle', Infinity, 'A gRPC connection without calls for this long is closed with GOAWAY. Default: infinity.'),
  grpcMaxConnectionAge: durationOpt('server.grpc.keepalive.max-connection-age', 'server.grpc_server_max_connection_age', Infinity, 'A gRPC connection older than this is closed with GOAWAY, so clients reconnect (and re-resolve). Default: infinity.'),
  grpcMaxConnectionAgeGrace: durationOpt('server.grpc.keepalive.max-connection-age-grace', 'server.grpc_server_max_connection_age_grace', Infinity, 'How long calls may run on a connection after its max-connection-age GOAWAY before it is closed. Default: infinity.'),
  grpcKeepaliveTime: durationOpt('server.grpc.keepalive.time', 'server.grpc_server_keepalive_time', 7_200_000, 'Idle time after which the server pings a client to see that the connection is alive.'),
  grpcKeepaliveTimeout: durationOpt('server.grpc.keepalive.timeout', 'server.grpc_server_keepalive_timeout', 20_000, 'How long the server waits for a keepalive ping answer before closing the connection.'),
  grpcMinTimeBetweenPings: durationOpt('server.grpc.keepalive.min-time-between-pings', 'server.grpc_server_min_time_between_pings', 10_000, 'Minimum interval between client pings the server tolerates. Accepted for Mimir compatibility: grpc-js servers do not enforce a ping policy.'),
  grpcPingWithoutStreamAllowed: boolOpt('server.grpc.keepalive.ping-without-stream-allowed', 'server.grpc_server_ping_without_stream_allowed', true, 'Whether clients may ping without active calls. Accepted for Mimir compatibility: grpc-js servers do not enforce a ping policy.'),
  logLevel: enumOpt('log.level', 'server.log_level', 'info', ['debug', 'info', 'warn', 'error'] as const, 'Only log messages with the given severity or above.'),
}, (v) => {
  if (v.gracefulShutdownTimeout <= 0) throw new Error('-server.graceful-shutdown-timeout must be greater than 0');
  if (v.grpcKeepaliveTimeout <= 0) throw new Error('-server.grpc.keepalive.timeout must be greater than 0');
});

export type ServerConfig = Values<typeof serverConfig.options>;
