import { readFileSync } from 'node:fs';
import { CloudStorageClient, CloudStorageError } from '@cloudstore/client';
import { type Credentials, loadCredentials, saveCredentials } from './credentials';
import { Answers } from './prompts';

export const DEFAULT_SERVER = '127.0.0.1:50051';
const DEFAULT_REST_PORT = 8080;

/** The options every command takes. */
export interface GlobalOptions {
  readonly server?: string;
  readonly restUrl?: string;
  readonly ca?: string;
  readonly json?: boolean;
  readonly passwordStdin?: boolean;
}

/** A failure of the CLI itself (not of a call): one line, and this exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** What a command runs with: where the server is, the saved session, output and answers. */
export class CliContext {
  readonly answers: Answers;
  private credentials: Credentials | undefined | null = null;
  /** Saves under way (refreshed tokens, upload ids): awaited before the CLI exits. */
  private readonly saving = new Set<Promise<void>>();

  constructor(
    readonly options: GlobalOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.answers = new Answers(options.passwordStdin === true);
  }

  get json(): boolean {
    return this.options.json === true;
  }

  /** `--server`, `CLOUDSTORE_SERVER`, the signed-in server, or the local default. */
  async server(): Promise<string> {
    return this.options.server ?? this.env['CLOUDSTORE_SERVER'] ?? (await this.saved())?.server ?? DEFAULT_SERVER;
  }

  /** `--rest-url`, `CLOUDSTORE_REST_URL`, the signed-in one, or port 8080 of the server's host. */
  async restUrl(): Promise<string> {
    const given = this.options.restUrl ?? this.env['CLOUDSTORE_REST_URL'];
    if (given) return given.replace(/\/+$/, '');
    const saved = await this.saved();
    const server = await this.server();
    if (saved && saved.server === server) return saved.restUrl;
    const host = server.replace(/:\d+$/, '');
    return `${this.ca() ? 'https' : 'http'}://${host}:${DEFAULT_REST_PORT}`;
  }

  /** A client of the server, without a session (register, login). */
  async anonymous(): Promise<CloudStorageClient> {
    const ca = this.ca();
    return new CloudStorageClient({ address: await this.server(), restUrl: await this.restUrl(), ...(ca ? { ca } : {}) });
  }

  /** A client signed in with the saved session; refreshed tokens are saved as they come. */
  async signedIn(): Promise<CloudStorageClient> {
    const saved = await this.saved();
    if (!saved) throw new CliError('not signed in: run `cloudstore login USERNAME`');
    const server = await this.server();
    if (saved.server !== server)
      throw new CliError(`signed in on ${saved.server}, not ${server}: run \`cloudstore login\` there`);
    const ca = this.ca();
    return new CloudStorageClient({
      address: server,
      restUrl: saved.restUrl,
      tokens: saved.tokens,
      ...(ca ? { ca } : {}),
      onTokens: (tokens) => {
        if (tokens) this.track(this.keep({ ...saved, tokens }));
      },
    });
  }

  /** A save that must be done before the CLI exits (and before anything that undoes it). */
  track(save: Promise<void>): void {
    this.saving.add(save);
    void save.catch(() => undefined).finally(() => this.saving.delete(save));
  }

  /** Waits for the saves under way; the first that failed is thrown. */
  async settle(): Promise<void> {
    const results = await Promise.allSettled([...this.saving]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async keep(credentials: Credentials): Promise<void> {
    this.credentials = credentials;
    await saveCredentials(credentials);
  }

  async saved(): Promise<Credentials | undefined> {
    if (this.credentials === null) this.credentials = await loadCredentials();
    return this.credentials;
  }

  /** Prints `value` as JSON with --json, else the human text. */
  print(value: unknown, human: () => string): void {
    process.stdout.write(`${this.json ? JSON.stringify(value, null, 2) : human()}\n`);
  }

  private ca(): string | undefined {
    const path = this.options.ca ?? this.env['CLOUDSTORE_CA'];
    if (!path) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read the CA file ${path}: ${(error as Error).message}`);
    }
  }
}

/** The line a failure ends the CLI with, naming the API's code. */
export function failureLine(error: unknown): string {
  if (error instanceof CloudStorageError) return `cloudstore: ${error.code}: ${error.message}`;
  return `cloudstore: ${error instanceof Error ? error.message : String(error)}`;
}
