/** BullMQ queues of cloudstore: their names, default job options, and the payloads they carry. */
export * from './queues';
export * from './audit-event';
