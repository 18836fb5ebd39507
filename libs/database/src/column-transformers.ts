import type { ValueTransformer } from 'typeorm';

/**
 * PostgreSQL bigint arrives as a string; byte counts fit a JS number up to 8 PiB, far beyond
 * any one quota or node, so they are numbers in code.
 */
export const bigintToNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
