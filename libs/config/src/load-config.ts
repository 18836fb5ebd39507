import { type z } from 'zod';

/** Thrown when the environment does not satisfy a service's schema; the message is one line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

/**
 * Validates `env` against `schema` once. The error names every bad variable on one line, so a
 * service that cannot start says exactly why.
 */
export function loadConfig<S extends z.ZodType<unknown, Env>>(schema: S, env: Env = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.');
    return variable ? `${variable} ${issue.message}` : issue.message;
  });
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/**
 * For a service's `main`: the validated config, or one line on stderr and exit code 78
 * (EX_CONFIG) so that a supervisor can tell a bad configuration from a crash.
 */
export function loadConfigOrExit<S extends z.ZodType<unknown, Env>>(
  service: string,
  schema: S,
  env: Env = process.env,
): z.output<S> {
  try {
    return loadConfig(schema, env);
  } catch (error) {
    return exitOnConfigError(service, error);
  }
}

/** For a service's `main`: a start step that reads configuration from elsewhere (a key file), ending the process like loadConfigOrExit. */
export async function awaitConfigOrExit<T>(service: string, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    return exitOnConfigError(service, error);
  }
}

function exitOnConfigError(service: string, error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${service}: ${error.message}\n`);
  process.exit(EXIT_CODE_BAD_CONFIG);
}

export const EXIT_CODE_BAD_CONFIG = 78;
