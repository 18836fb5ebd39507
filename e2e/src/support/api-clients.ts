import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ADMIN_SERVICE, CLOUD_STORAGE_SERVICE, type DomainError, type publicApi } from '@cloudstore/contracts';
import { GrpcServiceClient } from '@cloudstore/grpc';
import type { Dispatcher } from 'undici';

export interface RestResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * The REST API as a client sees it; `ip` is sent as X-Forwarded-For (believed by a cluster
 * started with TRUSTED_PROXIES=127.0.0.1/32); `tls` dials an https gateway (an undici Agent
 * that trusts its CA).
 */
export class RestClient {
  constructor(
    readonly baseUrl: string,
    private readonly ip?: string,
    private readonly tls?: Dispatcher,
  ) {}

  withIp(ip: string): RestClient {
    return new RestClient(this.baseUrl, ip, this.tls);
  }

  /** fetch() of `path` on this gateway, over its TLS when it has one. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, { ...init, ...(this.tls ? { dispatcher: this.tls } : {}) });
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; rawBody?: string } = {},
  ): Promise<RestResponse<T>> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined || options.rawBody !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (this.ip) headers['x-forwarded-for'] = this.ip;
    const res = await this.fetch(path, {
      method,
      headers,
      ...(options.rawBody !== undefined
        ? { body: options.rawBody }
        : options.body !== undefined
          ? { body: JSON.stringify(options.body) }
          : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, headers: res.headers };
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown, token?: string): Promise<RestResponse<T>> {
    return this.request<T>('POST', path, { body: body ?? {}, ...(token ? { token } : {}) });
  }

  get<T = Record<string, unknown>>(path: string, token?: string): Promise<RestResponse<T>> {
    return this.request<T>('GET', path, token ? { token } : {});
  }

  patch<T = Record<string, unknown>>(path: string, body: unknown, token?: string): Promise<RestResponse<T>> {
    return this.request<T>('PATCH', path, { body, ...(token ? { token } : {}) });
  }
}

/** The public gRPC API; failures reject with the DomainError of their `error-code`. */
export function publicGrpcClient(address: string): GrpcServiceClient<publicApi.CloudStorageServiceClient> {
  return new GrpcServiceClient(CLOUD_STORAGE_SERVICE, address, credentials.createInsecure(), 30_000);
}

export function adminGrpcClient(address: string): GrpcServiceClient<publicApi.AdminServiceClient> {
  return new GrpcServiceClient(ADMIN_SERVICE, address, credentials.createInsecure(), 30_000);
}

export function bearer(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** A raw unary call, to see the status code and trailing metadata exactly as they cross the wire. */
export function rawUnary(
  client: GrpcServiceClient<unknown>,
  method: string,
  request: unknown,
  metadata = new Metadata(),
): Promise<ServiceError | undefined> {
  return new Promise((resolve) => {
    const fn = client.raw[method] as (req: unknown, md: Metadata, cb: (error: ServiceError | null) => void) => void;
    fn.call(client.raw, request, metadata, (error) => resolve(error ?? undefined));
  });
}

export type { DomainError };
