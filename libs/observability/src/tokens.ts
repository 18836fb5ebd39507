import type { Provider } from '@nestjs/common';
import type { Logger } from 'pino';
import { Metrics } from './metrics';

/** Nest injection token of the process's pino logger. */
export const LOGGER = Symbol('LOGGER');

/** The logger and metrics of the process, as Nest providers. */
export function observabilityProviders(logger: Logger, metrics: Metrics): Provider[] {
  return [
    { provide: LOGGER, useValue: logger },
    { provide: Metrics, useValue: metrics },
  ];
}
