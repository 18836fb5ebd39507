import { Command, CommanderError } from 'commander';
import { CliContext, CliError, failureLine, type GlobalOptions } from './cli-context';
import { accountCommands } from './commands/account';
import { adminCommands } from './commands/admin';
import { completionCommand } from './commands/completion';
import { fileCommands } from './commands/files';
import { sharingCommands } from './commands/sharing';

/** The run's context, made by the first command that needs it. */
let context: CliContext | undefined;

/** The `cloudstore` command and its subcommands. */
export function cliProgram(version = 'unknown'): Command {
  const program = new Command('cloudstore')
    .version(version)
    .description('cloudstore on the command line: sign in, put and get files, share them, run the cluster')
    .option(
      '--server <host:port>',
      'the gateway’s gRPC address (CLOUDSTORE_SERVER; default: where you signed in, else 127.0.0.1:50051)',
    )
    .option(
      '--rest-url <url>',
      'the REST API, for links and whoami (CLOUDSTORE_REST_URL; default: port 8080 of the server’s host)',
    )
    .option('--ca <file>', 'the CA certificate (PEM) of a gateway with TLS (CLOUDSTORE_CA)')
    .option('--json', 'print JSON instead of text')
    .option('--password-stdin', 'read the password, then the sign-in code, as lines from standard input')
    .showHelpAfterError('(cloudstore --help shows the commands and options)')
    .configureOutput({ outputError: (text, write) => write(text) });
  const current = () => (context ??= new CliContext(program.opts<GlobalOptions>()));
  accountCommands(program, current);
  fileCommands(program, current);
  sharingCommands(program, current);
  adminCommands(program, current);
  completionCommand(program);
  return program;
}

/** Runs the CLI: the exit code (0, 1 for a failure, 2 for a usage error, 130 when interrupted). */
export async function runCli(argv: string[], version?: string): Promise<number> {
  const program = cliProgram(version);
  const throwInsteadOfExit = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(throwInsteadOfExit);
  };
  throwInsteadOfExit(program);
  try {
    await program.parseAsync(argv);
    await context?.settle();
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end well; anything else commander refused is a usage error (already printed).
      return error.exitCode === 0 ? 0 : 2;
    }
    await context?.settle().catch(() => undefined);
    process.stderr.write(`${failureLine(error)}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  } finally {
    context?.answers.close();
  }
}
