import { createServiceDataSource } from '@cloudstore/database';
import type { DataSource } from 'typeorm';
import { AuditChainKeysEntity } from '../audit/audit-chain-keys.entity';
import { AuditCheckpointEntity } from '../audit/audit-checkpoint.entity';
import { AuditLogEntity } from '../audit/audit-log.entity';
import { ChunkEntity } from '../files/chunk.entity';
import { ChunkReplicaEntity } from '../files/chunk-replica.entity';
import { FileEntity } from '../files/file.entity';
import { UserQuotaEntity } from '../quotas/user-quota.entity';
import { UploadEntity } from '../uploads/upload.entity';
import { DownloadLinkEntity } from '../links/download-link.entity';
import { FileShareEntity } from '../shares/file-share.entity';
import { StorageNodeEntity } from '../node-registry/storage-node.entity';
import { UserKeyEntity } from '../user-keys/user-key.entity';
import { METADATA_MIGRATIONS } from './migrations';

/** The PostgreSQL schema that only the metadata service reads and writes. */
export const METADATA_SCHEMA = 'metadata';

export const METADATA_ENTITIES = [
  StorageNodeEntity,
  AuditLogEntity,
  AuditCheckpointEntity,
  AuditChainKeysEntity,
  FileEntity,
  ChunkEntity,
  ChunkReplicaEntity,
  UploadEntity,
  UserQuotaEntity,
  UserKeyEntity,
  FileShareEntity,
  DownloadLinkEntity,
];

export function createMetadataDataSource(url: string): DataSource {
  return createServiceDataSource({
    url,
    schema: METADATA_SCHEMA,
    entities: METADATA_ENTITIES,
    migrations: METADATA_MIGRATIONS,
    applicationName: 'cloudstore-metadata',
  });
}
