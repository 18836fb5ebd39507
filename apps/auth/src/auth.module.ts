import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AuthConfig } from '@cloudstore/config';
import { type Logger, type Metrics, observabilityProviders } from '@cloudstore/observability';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { AUTH_CONFIG, REDIS } from './auth.tokens';

export interface AuthModuleOptions {
  readonly config: AuthConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Initialised and migrated by main before the module starts. */
  readonly dataSource: DataSource;
  readonly redis: Redis;
}

/** What the process provides to every feature module. */
@Global()
@Module({})
class AuthCoreModule {
  static register(options: AuthModuleOptions): DynamicModule {
    const providers = [
      { provide: AUTH_CONFIG, useValue: options.config },
      { provide: REDIS, useValue: options.redis },
      ...observabilityProviders(options.logger, options.metrics),
    ];
    return { module: AuthCoreModule, providers, exports: providers };
  }
}

@Module({})
export class AuthModule {
  static register(options: AuthModuleOptions): DynamicModule {
    return {
      module: AuthModule,
      imports: [
        AuthCoreModule.register(options),
        TypeOrmModule.forRootAsync({
          useFactory: () => options.dataSource.options,
          dataSourceFactory: () => Promise.resolve(options.dataSource),
        }),
      ],
    };
  }
}
