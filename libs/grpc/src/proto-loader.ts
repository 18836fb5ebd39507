import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import type { ProtoService } from '@cloudstore/contracts';

/**
 * How proto-loader turns messages into objects; matches what ts-proto generated the types for
 * (camelCase fields, int64 as number, enums as strings, defaults filled in).
 */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The repository's `proto/` folder, found from this file both in sources and in `dist/`. */
export const PROTO_DIR = findProtoDir(__dirname);

function findProtoDir(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'cloudstorage', 'v1', 'cloud_storage.proto'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`no proto/ folder above ${start}`);
  }
}

export function protoPath(service: ProtoService): string {
  return join(PROTO_DIR, service.file);
}

const definitions = new Map<string, PackageDefinition>();

export function loadProtoDefinition(service: ProtoService): PackageDefinition {
  let definition = definitions.get(service.file);
  if (!definition) {
    definition = loadSync(protoPath(service), { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
    definitions.set(service.file, definition);
  }
  return definition;
}

/** The grpc-js client class of a service. */
export function loadServiceClientConstructor(service: ProtoService): ServiceClientConstructor {
  let node: GrpcObject | ServiceClientConstructor = loadPackageDefinition(loadProtoDefinition(service));
  for (const part of `${service.packageName}.${service.serviceName}`.split('.')) {
    node = (node as GrpcObject)[part] as GrpcObject | ServiceClientConstructor;
    if (!node) throw new Error(`${service.packageName}.${service.serviceName} is not in ${service.file}`);
  }
  return node as ServiceClientConstructor;
}
