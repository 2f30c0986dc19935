// With millisecond-scale max-connection-age and grace, in-flight unary calls complete across
// GOAWAY and clients reconnect (the server sees calls from several client connections).
import '../harness.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { schema } from '../../src/app/config.js';
import { defaultsOf } from '../../src/config/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createBareRegistry, RequestMetrics } from '../../src/metrics/index.js';
import { GrpcServer, grpcServerOptions } from '../../src/server/grpc.js';
import { SLOW_SERVICE, SlowClientCtor } from '../fixtures/slow-service.js';

test('keepalive flags reach the grpc-js server options; infinite ones stay unset', () => {
  const cfg = defaultsOf(schema).server;
  const o = grpcServerOptions(cfg) as Record<string, unknown>;
  assert.equal(o['grpc.max_connection_age_ms'], undefined);
  assert.equal(o['grpc.max_connection_age_grace_ms'], undefined);
  assert.equal(o['grpc.max_connection_idle_ms'], undefined);
  assert.equal(o['grpc.keepalive_time_ms'], 7_200_000);
  assert.equal(o['grpc.keepalive_timeout_ms'], 20_000);
  assert.equal(o['grpc.max_receive_message_length'], 100 * 1024 * 1024);
  assert.equal(o['grpc.max_send_message_length'], 100 * 1024 * 1024);
  assert.equal(o['grpc.max_concurrent_streams'], 100);
  const o2 = grpcServerOptions({ ...cfg, grpcMaxConnectionAge: 10_000, grpcMaxConnectionAgeGrace: 5000, grpcMaxConnectionIdle: 10_000 }) as Record<string, unknown>;
  assert.equal(o2['grpc.max_connection_age_ms'], 10_000);
  assert.equal(o2['grpc.max_connection_age_grace_ms'], 5000);
  assert.equal(o2['grpc.max_connection_idle_ms'], 10_000);
});

test('in-flight unary calls complete across max-connection-age GOAWAYs and clients reconnect', async () => {
  const cfg = {
    ...defaultsOf(schema).server,
    grpcListenAddress: '127.0.0.1',
    grpcListenPort: 0,
    grpcMaxConnectionAge: 60,
    grpcMaxConnectionAgeGrace: 1000,
  };
  const server = new GrpcServer(cfg, silentLogger(), new RequestMetrics(createBareRegistry()));
  const peers = new Set<string>();
  server.addService(SLOW_SERVICE, {
    sleep: ((call: grpc.ServerUnaryCall<{ ms: number }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      peers.add(call.getPeer());
      setTimeout(() => cb(null, { slept: call.request.ms }), call.request.ms);
    }) as grpc.UntypedHandleCall,
  });
  await server.listen();
  const client = new SlowClientCtor(`127.0.0.1:${server.boundPort()}`, grpc.credentials.createInsecure());
  const failures: string[] = [];
  let ok = 0;
  const until = Date.now() + 2000;
  const worker = async (w: number): Promise<void> => {
    let i = 0;
    while (Date.now() < until) {
      const ms = 5 + ((w * 31 + i++ * 17) % 120); // some calls outlive a connection's age
      await new Promise<void>((resolve) => {
        client.sleep({ ms }, { deadline: Date.now() + 5000 }, (err, r) => {
          if (err !== null) failures.push(`${grpc.status[err.code]}: ${err.details}`);
          else if (r?.slept !== ms) failures.push(`wrong answer ${String(r?.slept)} for ${ms}`);
          else ok++;
          resolve();
        });
      });
    }
  };
  await Promise.all(Array.from({ length: 20 }, (_, w) => worker(w)));
  client.close();
  await server.shutdown(1000);
  assert.deepEqual(failures, []);
  assert.ok(ok > 100, `only ${ok} calls completed`);
  assert.ok(peers.size >= 5, `the client used ${peers.size} connection(s); expected reconnections after each GOAWAY`);
});
