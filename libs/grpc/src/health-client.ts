import {
  type ChannelCredentials,
  type ChannelInterface,
  type ChannelOptions,
  loadPackageDefinition,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { PROTO_LOADER_OPTIONS } from './proto-loader';
import { InternalTransport } from './tls/internal-transport';

type HealthClient = Client & {
  check(
    request: { service: string },
    options: { deadline: number },
    callback: (error: ServiceError | null, response?: { status: string }) => void,
  ): void;
};

let HealthClientCtor:
  | (new (
      address: string,
      creds: ChannelCredentials,
      options?: ChannelOptions & { channelOverride?: ChannelInterface },
    ) => HealthClient)
  | undefined;

/**
 * Asks `grpc.health.v1.Health/Check` at `address`, over `transport` (an internal service's
 * mutual TLS, or a public port's credentials). Resolves with the serving status
 * ("SERVING", "NOT_SERVING", …); rejects when nothing answers within `timeoutMs`. Over `channel`
 * when given (the one other calls use, so that an answer also means it is connected; it is left open).
 */
export async function checkGrpcHealth(
  address: string,
  transport: InternalTransport | ChannelCredentials,
  service = '',
  timeoutMs = 2000,
  channel?: ChannelInterface,
): Promise<string> {
  HealthClientCtor ??= (
    loadPackageDefinition(loadSync(healthProtoPath, PROTO_LOADER_OPTIONS)) as never as {
      grpc: { health: { v1: { Health: NonNullable<typeof HealthClientCtor> } } };
    }
  ).grpc.health.v1.Health;
  const client = new HealthClientCtor(
    address,
    transport instanceof InternalTransport ? transport.channelCredentials() : transport,
    channel ? { channelOverride: channel } : transport instanceof InternalTransport ? transport.channelOptions() : {},
  );
  try {
    return await new Promise<string>((resolve, reject) => {
      client.check({ service }, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error) reject(new Error(`${address}: ${error.details || error.message}`));
        else resolve(response?.status ?? 'UNKNOWN');
      });
    });
  } finally {
    if (!channel) client.close();
  }
}
