import { runMigrateCommand } from '@cloudstore/database';
import { createMetadataDataSource, METADATA_SCHEMA } from './database/metadata-data-source';

runMigrateCommand('metadata', METADATA_SCHEMA, createMetadataDataSource);
