import {
  type ChannelOptions,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
  type ServiceError,
  status as GrpcStatus,
} from '@grpc/grpc-js';
import { MAX_ERROR_MESSAGE_BYTES } from '@cloudstore/contracts';
import { boundedStatusInterceptor, CONTROL_MESSAGE_MAX_BYTES } from './grpc-server';
import { INTERNAL_CHANNEL_OPTIONS } from './grpc-client';
import { fromGrpcError } from './grpc-errors';

interface EchoRequest {
  failWith?: number;
  padding?: string;
}

const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString() || '{}') as EchoRequest,
};
const definition: ServiceDefinition = {
  Call: {
    path: '/test.Echo/Call',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
type EchoClient = InstanceType<ReturnType<typeof makeGenericClientConstructor>> & {
  Call(request: EchoRequest, options: { deadline: number }, callback: (error: ServiceError | null) => void): void;
};

/** A handler that fails with a status message of `failWith` characters, as a careless one would. */
function startServer(
  maxReceiveMessageBytes = 4 * 1024 * 1024,
  handled = { calls: 0 },
  serverOptions: ChannelOptions = {},
): Promise<{ server: Server; port: number }> {
  const server = new Server({
    interceptors: [boundedStatusInterceptor],
    'grpc.max_receive_message_length': maxReceiveMessageBytes,
    ...serverOptions,
  });
  server.addService(definition, {
    Call: (call: ServerUnaryCall<EchoRequest, unknown>, callback: sendUnaryData<unknown>) => {
      handled.calls += 1;
      const length = call.request.failWith;
      if (!length) return callback(null, {});
      callback({ code: GrpcStatus.NOT_FOUND, details: `No storage node ${'x'.repeat(length)}`, metadata: new Metadata() });
    },
  });
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve({ server, port }),
    ),
  );
}

describe('boundedStatusInterceptor', () => {
  let server: Server;
  let client: EchoClient;

  beforeEach(async () => {
    const started = await startServer();
    server = started.server;
    const Client = makeGenericClientConstructor(definition, 'Echo');
    // Its own connection, so that no other test shares (or is hurt by) this one.
    client = new Client(`127.0.0.1:${started.port}`, credentials.createInsecure(), {
      ...INTERNAL_CHANNEL_OPTIONS,
      'grpc.use_local_subchannel_pool': 1,
    }) as EchoClient;
  });

  afterEach(() => {
    client.close();
    server.forceShutdown();
  });

  const call = (request: EchoRequest) =>
    new Promise<ServiceError | undefined>((resolve) =>
      client.Call(request, { deadline: Date.now() + 5000 }, (error) => resolve(error ?? undefined)),
    );

  it('fails one call with a bounded message and keeps the shared connection serving the others', async () => {
    expect(await call({})).toBeUndefined();

    const [bad, ...others] = await Promise.all([call({ failWith: 100_000 }), call({}), call({}), call({})]);

    expect(bad?.code).toBe(GrpcStatus.NOT_FOUND);
    expect(Buffer.byteLength(bad?.details ?? '')).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    expect(bad?.details.startsWith('No storage node xxx')).toBe(true);
    expect(others).toEqual([undefined, undefined, undefined]);
    expect(await call({})).toBeUndefined();
  });
});

describe('receive limit', () => {
  it('refuses a message over the limit before its handler runs, and a caller passes that on as INVALID_ARGUMENT', async () => {
    const handled = { calls: 0 };
    const { server, port } = await startServer(CONTROL_MESSAGE_MAX_BYTES, handled);
    const Client = makeGenericClientConstructor(definition, 'Echo');
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), INTERNAL_CHANNEL_OPTIONS) as EchoClient;
    try {
      const started = Date.now();
      const error = await new Promise<ServiceError | null>((resolve) =>
        client.Call({ padding: 'x'.repeat(16 * 1024 * 1024) }, { deadline: Date.now() + 10_000 }, resolve),
      );
      expect(error?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(handled.calls).toBe(0);
      expect(fromGrpcError(error, 'echo')).toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});

describe('replicated services', () => {
  const servers: Server[] = [];
  const clients: EchoClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    for (const server of servers.splice(0)) server.forceShutdown();
  });

  async function replica(serverOptions: ChannelOptions = {}): Promise<{ port: number; handled: { calls: number } }> {
    const handled = { calls: 0 };
    const { server, port } = await startServer(CONTROL_MESSAGE_MAX_BYTES, handled, serverOptions);
    servers.push(server);
    return { port, handled };
  }
  function clientOf(target: string): (request: EchoRequest) => Promise<ServiceError | undefined> {
    const Client = makeGenericClientConstructor(definition, 'Echo');
    const client = new Client(target, credentials.createInsecure(), {
      ...INTERNAL_CHANNEL_OPTIONS,
      'grpc.use_local_subchannel_pool': 1,
    }) as EchoClient;
    clients.push(client);
    return (request) =>
      new Promise((resolve) => client.Call(request, { deadline: Date.now() + 5000 }, (error) => resolve(error ?? undefined)));
  }

  it('loses no call when a replica ends an aged connection (the client reconnects and goes on)', async () => {
    const server = await replica({ 'grpc.max_connection_age_ms': 100, 'grpc.max_connection_age_grace_ms': 1000 });
    const call = clientOf(`127.0.0.1:${server.port}`);
    const until = Date.now() + 1000;
    let calls = 0;
    while (Date.now() < until) {
      expect(await call({})).toBeUndefined();
      calls += 1;
    }
    expect(server.handled.calls).toBe(calls);
  });
});
