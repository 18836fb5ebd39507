import type { Command } from 'commander';
import { type CliContext, CliError } from '../cli-context';
import { humanTime, parseDuration, table } from '../format';
import { withClient } from './files';

/** A duration option's seconds; a usage error (exit 2) when it is not one. */
function duration(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new CliError(`--expires: ${(error as Error).message}`, 2);
  }
}

export function sharingCommands(program: Command, context: () => CliContext): void {
  program
    .command('share')
    .description('let another user read a file (--revoke ends it); without a user, list the file’s shares')
    .argument('<id>', 'the file id')
    .argument('[username]', 'who to share it with')
    .option('--revoke', 'end the share instead')
    .action(async (id: string, username: string | undefined, options: { revoke?: boolean }) => {
      const cli = context();
      await withClient(cli, async (client) => {
        if (!username) {
          const shares = await client.listFileShares(id);
          cli.print(shares, () =>
            shares.length === 0
              ? 'Not shared'
              : table(
                  ['USER', 'PERMISSION', 'SINCE'],
                  shares.map((s) => [s.username, s.permission, humanTime(s.createdAt)]),
                ),
          );
        } else if (options.revoke) {
          await client.unshareFile(id, username);
          cli.print({ file_id: id, username, shared: false }, () => `${username} can no longer read ${id}`);
        } else {
          const share = await client.shareFile(id, username);
          cli.print(share, () => `${username} can now read ${id}`);
        }
      });
    });

  program
    .command('link')
    .description('make a download link that works without signing in until it expires (--list, --revoke to manage them)')
    .argument('<id>', 'the file id')
    .option('--expires <duration>', 'how long it works: 30s, 15m, 2h, 7d', '1d')
    .option('--password', 'ask for a password the link will need')
    .option('--list', 'list the file’s links instead')
    .option('--revoke <linkId>', 'revoke this link instead')
    .action(async (id: string, options: { expires: string; password?: boolean; list?: boolean; revoke?: string }) => {
      const cli = context();
      await withClient(cli, async (client) => {
        if (options.list) {
          const links = await client.listDownloadLinks(id);
          cli.print(links, () =>
            links.length === 0
              ? 'No links'
              : table(
                  ['LINK', 'EXPIRES', 'PASSWORD'],
                  links.map((l) => [l.linkId, humanTime(l.expiresAt), l.hasPassword ? 'yes' : 'no']),
                ),
          );
        } else if (options.revoke) {
          await client.revokeDownloadLink(id, options.revoke);
          cli.print({ link_id: options.revoke, revoked: true }, () => `Link ${options.revoke} revoked`);
        } else {
          const password = options.password ? await cli.answers.ask('Link password', { secret: true }) : undefined;
          const link = await client.createDownloadLink(id, {
            expiresInSeconds: duration(options.expires),
            ...(password ? { password } : {}),
          });
          cli.print(link, () => `${link.url} (until ${humanTime(link.expiresAt)}${link.hasPassword ? ', with a password' : ''})`);
        }
      });
    });
}
