import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisSettings } from '@cloudstore/config';
import { findFreePortRange } from './ports';
import { testRedisClient } from './test-redis';
import { waitFor } from './wait-for';

export interface RedisServerOptions {
  /** `requirepass`: the default user's password. */
  readonly password?: string;
  /** An ACL user with every right, signed in as `user:password@`. */
  readonly aclUser?: { readonly name: string; readonly password: string };
  /** TLS only (no plaintext port), with this certificate and key; clients need no certificate. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

/**
 * A redis-server of the test's own, from the PATH, with an append-only file as production runs
 * it, so that a test can restart it (or require a password, or TLS) without touching the Redis
 * other tests use.
 */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await findFreePortRange(1), await mkdtemp(join(tmpdir(), 'cloudstore-redis-')), options);
    await server.launch();
    return server;
  }

  /** REDIS_URL as the default user (with the password, if any): redis://, or rediss:// with TLS. */
  get url(): string {
    const auth = this.options.password ? `:${encodeURIComponent(this.options.password)}@` : '';
    return `${this.options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${this.port}/0`;
  }

  /** REDIS_URL and, with TLS, REDIS_CA_FILE; `as` signs in as the ACL user instead. */
  settings(as: 'default' | 'acl-user' = 'default'): RedisSettings {
    const url = new URL(this.url);
    if (as === 'acl-user' && this.options.aclUser) {
      url.username = this.options.aclUser.name;
      url.password = this.options.aclUser.password;
    }
    return { REDIS_URL: url.toString(), ...(this.options.tls ? { REDIS_CA_FILE: this.options.tls.caFile } : {}) };
  }

  private async launch(): Promise<void> {
    const { password, aclUser, tls } = this.options;
    const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dir];
    args.push(...(tls ? ['--port', '0', '--tls-port', String(this.port)] : ['--port', String(this.port)]));
    if (tls) {
      args.push('--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile);
      args.push('--tls-auth-clients', 'no');
    }
    if (password) args.push('--requirepass', password);
    if (aclUser) args.push('--user', aclUser.name, 'on', `>${aclUser.password}`, '~*', '&*', '+@all');
    this.process = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor(
      'redis to answer',
      async () => {
        const client = testRedisClient(this.settings(), {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        client.on('error', () => undefined);
        try {
          await client.connect();
          return (await client.ping()) === 'PONG';
        } finally {
          // disconnect() on a refused (ended) connection schedules a stray reconnect timer.
          if (client.status !== 'end') client.disconnect();
        }
      },
      10_000,
    );
  }

  /** Stops it (SIGTERM: Redis flushes its append-only file) and starts it again on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
