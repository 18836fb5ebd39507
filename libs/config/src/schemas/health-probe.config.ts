import { z } from 'zod';
import { commonVars, internalTlsVars, withInternalTlsFiles } from '../common-vars';

/**
 * What tools/grpc-health-probe reads: the internal TLS settings of the container it runs in.
 * With no files given it uses the local cluster's dev PKI and the gateway's certificate.
 */
export const healthProbeConfigSchema = z
  .object({ DATA_DIR: commonVars.DATA_DIR, ...internalTlsVars })
  .transform((config) => withInternalTlsFiles(config, 'gateway'));

export type HealthProbeConfig = z.output<typeof healthProbeConfigSchema>;
