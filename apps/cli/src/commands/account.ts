import type { Command } from 'commander';
import { CloudStorageError } from '@cloudstore/client';
import { type CliContext, CliError } from '../cli-context';
import { removeCredentials } from '../credentials';
import { humanTime } from '../format';

export function accountCommands(program: Command, context: () => CliContext): void {
  program
    .command('register')
    .description('create an account (the password is asked for, twice on a terminal)')
    .argument('[username]', 'the account name (asked for when left out)')
    .option('--email <address>', 'the account’s email address, where sign-in codes go')
    .action(async (username: string | undefined, options: { email?: string }) => {
      const cli = context();
      const name = username ?? (await cli.answers.ask('Username'));
      const email = options.email ?? (await cli.answers.ask('Email'));
      const password = await cli.answers.ask('Password', { secret: true });
      if (
        process.stdin.isTTY &&
        !cli.options.passwordStdin &&
        (await cli.answers.ask('Password again', { secret: true })) !== password
      )
        throw new CliError('the passwords differ');
      const client = await cli.anonymous();
      try {
        const account = await client.register(name, email, password);
        cli.print(account, () => `Registered ${name}: sign in with \`cloudstore login ${name}\``);
      } finally {
        client.close();
      }
    });

  program
    .command('login')
    .description('sign in: the password, then the code mailed to you or your authenticator’s (neither echoed)')
    .argument('<username>', 'the account name or email address')
    .action(async (username: string) => {
      const cli = context();
      const client = await cli.anonymous();
      try {
        const password = await cli.answers.ask('Password', { secret: true });
        const { sessionId, otpMethod } = await client.login(username, password);
        const prompt = otpMethod === 'totp' ? 'Code from your authenticator app' : 'Code sent to your email';
        const tokens = await client.verifyOtp(sessionId, await cli.answers.ask(prompt, { secret: true }));
        const server = await cli.server();
        await cli.keep({ server, restUrl: await cli.restUrl(), username, tokens });
        cli.print({ username, server, expires_at: tokens.expiresAt }, () => `Signed in as ${username} on ${server}`);
      } finally {
        client.close();
      }
    });

  program
    .command('logout')
    .description('sign out: the session ends on the server and its tokens are forgotten here')
    .action(async () => {
      const cli = context();
      const client = await cli.signedIn();
      try {
        await client.logout();
      } catch (error) {
        // A session the server already ended is forgotten all the same.
        if (!(error instanceof CloudStorageError && /^(TOKEN_|SESSION_)/.test(error.code))) throw error;
      } finally {
        client.close();
      }
      // A refresh saved during the call must not bring the credentials back.
      await cli.settle().catch(() => undefined);
      await removeCredentials();
      cli.print({ signed_out: true }, () => 'Signed out');
    });

  program
    .command('whoami')
    .description('who you are signed in as, and where')
    .action(async () => {
      const cli = context();
      const client = await cli.signedIn();
      try {
        const me = await client.whoami();
        const server = await cli.server();
        cli.print(
          { user_id: me.userId, username: me.username, role: me.role, server, expires_at: me.expiresAt },
          () => `${me.username} (${me.role}) on ${server}; token valid until ${humanTime(me.expiresAt)}`,
        );
      } finally {
        client.close();
      }
    });
}
