// Rule 3 of DESIGN.md: every entry point checks that its component is Running and otherwise
// answers with a retryable error (HTTP 503, gRPC UNAVAILABLE), never a 4xx and never a crash.
import * as grpc from '@grpc/grpc-js';
import { UnavailableError } from '../errors/index.js';
import { type Service, State } from '../lifecycle/index.js';
import type { Handler } from './router.js';

function notRunning(svc: Service): UnavailableError {
  return new UnavailableError(`${svc.name} is not running (state ${svc.state()}); retry later or on another instance`);
}

/** Wraps an HTTP handler so it runs only while the service is Running; otherwise 503. */
export function httpWhenRunning(svc: Service, handler: Handler): Handler {
  return (req, res, ctx) => {
    if (svc.state() !== State.Running) throw notRunning(svc);
    return handler(req, res, ctx);
  };
}

/** Wraps a unary gRPC handler so it runs only while the service is Running; otherwise UNAVAILABLE. */
export function grpcUnaryWhenRunning<Req, Res>(svc: Service, handler: grpc.handleUnaryCall<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    if (svc.state() !== State.Running) {
      callback({ code: grpc.status.UNAVAILABLE, details: notRunning(svc).message });
      return;
    }
    handler(call, callback);
  };
}
