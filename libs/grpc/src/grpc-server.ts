import type { Http2Server, ServerHttp2Session } from 'node:http2';
import {
  type Server as GrpcJsServer,
  type ServerCredentials,
  ServerInterceptingCall,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { type GrpcOptions, ServerGrpc, type CustomStrategy } from '@nestjs/microservices';
import { boundErrorText, type ProtoService } from '@cloudstore/contracts';
import type { HealthMonitor } from '@cloudstore/observability';
import { PROTO_DIR, PROTO_LOADER_OPTIONS, protoPath } from './proto-loader';

/** Room around a message's bytes for its other fields (ids, hashes, a token, a filename). */
export const MESSAGE_ENVELOPE_BYTES = 64 * 1024;

/**
 * Receive limit of a server whose requests carry no bulk bytes (auth, metadata): their largest
 * legitimate request is a few KiB (a password is at most 1 KiB, a node list a few dozen ids).
 */
export const CONTROL_MESSAGE_MAX_BYTES = 256 * 1024;

/**
 * HTTP/2 receive window of our servers: Node's default of 64 KiB caps a stream near 110 MiB/s.
 * Not larger: whatever a node lets in before it reads is held, encrypted, in the writer's memory
 * (a 32 MiB window grew the gateway by ~25 MiB per node during uploads, for no speed).
 */
export const SERVER_FLOW_CONTROL_WINDOW = 8 * 1024 * 1024;

/**
 * NestJS's gRPC transport, with a receive window large enough for bulk chunk streams. grpc-js
 * has no server option for it, so it is set on each HTTP/2 session as it opens. Closing it
 * (`gracefulShutdown`) lets the calls under way finish; `abortCalls` ends those still open.
 */
export class WideWindowGrpcServer extends ServerGrpc {
  override async start(callback?: () => void): Promise<void> {
    const http2Servers = (this.grpcClient as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
    for (const http2Server of http2Servers?.keys() ?? []) {
      http2Server.on('session', (session: ServerHttp2Session) => {
        session.settings({ initialWindowSize: SERVER_FLOW_CONTROL_WINDOW });
        session.setLocalWindowSize(SERVER_FLOW_CONTROL_WINDOW);
      });
    }
    await super.start(callback);
  }

  /** Cancels every call still open (the client sees CANCELLED), for a close that cannot wait longer. */
  abortCalls(): void {
    // Null once closed; grpc-js is the server behind it.
    (this.grpcClient as GrpcJsServer | null)?.forceShutdown();
  }
}

/**
 * Cuts the status message of every reply this server sends, whatever produced it. The message
 * travels as the `grpc-message` trailer; one near 64 KiB is an HTTP/2 COMPRESSION_ERROR at the
 * peer, which then drops the whole connection and with it every other call sharing it (grpc-js
 * has no `grpc.max_metadata_size` to refuse it per call). Domain errors are already bounded at
 * creation; this holds for framework and library errors too.
 */
export const boundedStatusInterceptor: ServerInterceptor = (_method, call) =>
  new ServerInterceptingCall(call, {
    sendStatus: (status, next) => next(status.details ? { ...status, details: boundErrorText(status.details) } : status),
  });

export interface GrpcServerSetup {
  /** The services this process implements. */
  readonly services: readonly ProtoService[];
  readonly port: number;
  readonly host?: string;
  /** An internal service's `InternalTransport.serverCredentials()`, or a public port's own. */
  readonly credentials: ServerCredentials;
  /** Answers grpc.health.v1.Health on the same port. */
  readonly health: HealthMonitor;
  /**
   * The largest message this server takes, sized to its largest legitimate one. grpc-js reads the
   * length prefix first and ends a call whose message is bigger with RESOURCE_EXHAUSTED before
   * buffering it, so an oversized message costs no memory.
   */
  readonly maxReceiveMessageBytes: number;
  /**
   * A service run as interchangeable replicas (auth, metadata): connections are closed after
   * REPLICA_CONNECTION_AGE_MS, so that clients connect again through the Service in front and
   * replicas added since get their share (a gRPC connection otherwise sticks to one for good). Not for storage nodes, whose chunk streams may run longer.
   */
  readonly replicated?: boolean;
}

/**
 * How long a connection to a replicated service lives before the server asks the client to
 * reconnect (HTTP/2 GOAWAY); calls in flight then have REPLICA_CONNECTION_GRACE_MS to finish,
 * far more than any unary call of auth or metadata takes.
 */
export const REPLICA_CONNECTION_AGE_MS = 5 * 60_000;
export const REPLICA_CONNECTION_GRACE_MS = 60_000;

/**
 * The interface an internal server binds, from the address its peers dial it at: loopback only
 * when that is a loopback address (the local cluster, and the default), else every interface.
 */
export function listenHostFor(advertisedAddress: string): string {
  const host = advertisedAddress.slice(0, advertisedAddress.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || host.startsWith('127.') ? '127.0.0.1' : '0.0.0.0';
}

/** The NestJS microservice strategy of a cloudstore gRPC server. */
export function createGrpcStrategy(setup: GrpcServerSetup): CustomStrategy & { strategy: WideWindowGrpcServer } {
  const options: GrpcOptions['options'] = {
    url: `${setup.host ?? '0.0.0.0'}:${setup.port}`,
    package: [...new Set(setup.services.map((s) => s.packageName))],
    protoPath: [...new Set(setup.services.map((s) => protoPath(s)))],
    loader: { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_DIR] },
    credentials: setup.credentials,
    gracefulShutdown: true,
    maxReceiveMessageLength: setup.maxReceiveMessageBytes,
    maxSendMessageLength: 64 * 1024 * 1024,
    channelOptions: {
      interceptors: [boundedStatusInterceptor],
      ...(setup.replicated
        ? {
            'grpc.max_connection_age_ms': REPLICA_CONNECTION_AGE_MS,
            'grpc.max_connection_age_grace_ms': REPLICA_CONNECTION_GRACE_MS,
          }
        : {}),
    },
    keepalive: { keepaliveTimeMs: 30_000, keepaliveTimeoutMs: 10_000, http2MinPingIntervalWithoutDataMs: 10_000 },
    onLoadPackageDefinition: (_pkg: unknown, server: GrpcJsServer) => setup.health.implementation.addToServer(server),
  };
  return { strategy: new WideWindowGrpcServer(options) };
}
