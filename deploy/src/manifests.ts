import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_CONFIG_SCHEMAS, type AppName } from '@cloudstore/config';
import { parse } from 'yaml';

export const REPO_ROOT = join(__dirname, '../..');

/** The app a container runs, from its command `node dist/apps/<app>/src/main.js`. */
export function appOfCommand(command: unknown): AppName | undefined {
  if (!Array.isArray(command)) return undefined;
  const script = command.find((part): part is string => typeof part === 'string' && part.startsWith('dist/apps/'));
  const app = script ? /^dist\/apps\/([^/]+)\/src\/main\.js$/.exec(script)?.[1] : undefined;
  return app && app in APP_CONFIG_SCHEMAS ? (app as AppName) : undefined;
}

/** A `node dist/….js` script exists in the sources as the matching .ts file. */
export function sourceOfScriptExists(script: string): boolean {
  return existsSync(join(REPO_ROOT, script.replace(/^dist\//, '').replace(/\.js$/, '.ts')));
}

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
}

/** Stands in for a variable docker-compose.yml requires (`${VAR:?why}`), as a .env would give it. */
export function requiredValue(name: string): string {
  return `test-${name.toLowerCase().replace(/_/g, '-')}`;
}

/** One string of docker-compose.yml interpolated as compose does it (see interpolatedCompose). */
function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*)|:\?[^}]*)?\}/g,
    (match, name: string | undefined, dash: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      if (dash !== undefined) return fallback ?? '';
      return match.includes(':?') ? requiredValue(name ?? '') : '';
    },
  );
}

function interpolateAll(node: unknown): unknown {
  if (typeof node === 'string') return interpolate(node);
  if (Array.isArray(node)) return node.map(interpolateAll);
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v)]));
  return node;
}

/**
 * docker-compose.yml as `docker compose` reads it with nothing set in the shell: every string
 * value interpolated after parsing, `${VAR:-default}` becoming the default (or empty), a required
 * `${VAR:?why}` a stand-in value (requiredValue), `$$` a `$`.
 */
export function interpolatedCompose(): Record<string, unknown> {
  return interpolateAll(parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true })) as Record<
    string,
    unknown
  >;
}

/** The variables docker-compose.yml reads from the shell or a .env, and which of them it requires. */
export function composeVariables(): { all: Set<string>; required: Set<string> } {
  const text = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8').replace(/\$\$/g, '');
  const all = new Set<string>();
  const required = new Set<string>();
  for (const [, name = '', rest = ''] of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}/g)) {
    all.add(name);
    if (rest.startsWith(':?')) required.add(name);
  }
  return { all, required };
}

/** docker-compose.yml as `docker compose` reads it with nothing set in the shell (see interpolatedCompose). */
export function loadCompose(): { services: Record<string, ComposeService>; volumes: Record<string, unknown> } {
  return interpolatedCompose() as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
}
