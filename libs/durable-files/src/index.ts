/**
 * Files that survive a crash: what is written is fsynced, and so is the directory that names it.
 */
export * from './durable-files';
