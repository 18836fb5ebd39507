import { type DynamicModule, Global, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import type { GatewayConfig } from '@cloudstore/config';
import { type Logger, type Metrics, observabilityProviders } from '@cloudstore/observability';
import type { Redis } from 'ioredis';
import { GATEWAY_CONFIG, REDIS } from './gateway.tokens';
import { HealthController } from './health/health.controller';
import { ReadinessService } from './health/readiness.service';
import { RequestContextMiddleware } from './http/request-context.middleware';
import { InternalClients } from './internal-clients/internal-clients';

export interface GatewayModuleOptions {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly redis: Redis;
  readonly clients: InternalClients;
}

/** What the process provides to every feature module. */
@Global()
@Module({})
class GatewayCoreModule {
  static register(options: GatewayModuleOptions): DynamicModule {
    const providers = [
      { provide: GATEWAY_CONFIG, useValue: options.config },
      { provide: REDIS, useValue: options.redis },
      { provide: InternalClients, useValue: options.clients },
      ...observabilityProviders(options.logger, options.metrics),
    ];
    return { module: GatewayCoreModule, providers, exports: providers };
  }
}

@Module({})
export class GatewayModule implements NestModule {
  static register(options: GatewayModuleOptions): DynamicModule {
    return {
      module: GatewayModule,
      imports: [GatewayCoreModule.register(options)],
      controllers: [HealthController],
      providers: [ReadinessService],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestContextMiddleware).forRoutes('*');
  }
}
