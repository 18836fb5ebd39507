import { describeServiceMigrations } from '@cloudstore/testing';
import { createMetadataDataSource, METADATA_SCHEMA } from './metadata-data-source';

describeServiceMigrations('metadata', METADATA_SCHEMA, createMetadataDataSource);
