import type { Command } from 'commander';
import { type CliContext, CliError } from '../cli-context';
import { humanBytes, humanTime, table } from '../format';
import { withClient } from './files';

/** The admin role's commands. */
export function adminCommands(program: Command, context: () => CliContext): void {
  const users = program.command('users').description('(admin) the accounts: list them, or change one with `users set`');
  users
    .command('list', { isDefault: true })
    .description('list the accounts')
    .option('--filter <text>', 'usernames or emails containing this')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 100)
    .action(async (options: { filter?: string; limit: number }) => {
      const cli = context();
      const listed = await withClient(cli, (client) => client.listUsers({ limit: options.limit, filter: options.filter ?? '' }));
      cli.print(listed, () =>
        table(
          ['ID', 'USERNAME', 'EMAIL', 'ROLE', 'ACTIVE', '2FA APP', 'CREATED'],
          listed.users.map((u) => [
            u.userId,
            u.username,
            u.email,
            u.role,
            u.active ? 'yes' : 'no',
            u.totpEnabled ? 'yes' : 'no',
            humanTime(u.createdAt),
          ]),
        ),
      );
    });
  users
    .command('set')
    .description('change an account’s role, quota or whether it is active')
    .argument('<userId>', 'the account id')
    .option('--role <role>', 'basic, premium or admin')
    .option('--quota <bytes>', 'the quota in bytes (0: none)', (v) => Number(v))
    .option('--active <yes|no>', 'whether it may sign in')
    .action(async (userId: string, options: { role?: string; quota?: number; active?: string }) => {
      const cli = context();
      if (options.active !== undefined && options.active !== 'yes' && options.active !== 'no')
        throw new CliError('--active takes yes or no', 2);
      if (options.quota !== undefined && !Number.isSafeInteger(options.quota))
        throw new CliError('--quota takes a number of bytes', 2);
      const user = await withClient(cli, (client) =>
        client.updateUser(userId, {
          ...(options.role ? { role: options.role } : {}),
          ...(options.quota !== undefined ? { quotaBytes: options.quota } : {}),
          ...(options.active ? { active: options.active === 'yes' } : {}),
        }),
      );
      cli.print(
        user,
        () =>
          `${user.username}: ${user.role}, ${user.active ? 'active' : 'inactive'}, quota ${user.quotaBytes ? humanBytes(user.quotaBytes) : 'none'}`,
      );
    });

  program
    .command('cluster')
    .description('(admin) the storage nodes and their state, chunks short of copies, the repair queue')
    .action(async () => {
      const cli = context();
      const status = await withClient(cli, (client) => client.getClusterStatus());
      cli.print(status, () =>
        [
          table(
            ['NODE', 'ADDRESS', 'STATE', 'USED', 'CAPACITY', 'CHUNKS', 'LAST HEARTBEAT'],
            status.nodes.map((n) => [
              n.nodeId,
              n.address,
              n.status,
              humanBytes(n.usedBytes),
              humanBytes(n.capacityBytes),
              String(n.chunkCount),
              humanTime(n.lastHeartbeat),
            ]),
            new Set([3, 4, 5]),
          ),
          `Under-replicated chunks: ${status.underReplicatedChunks}`,
          `Repair queue: ${status.jobs?.waiting ?? 0} waiting, ${status.jobs?.active ?? 0} active, ${status.jobs?.failed ?? 0} failed`,
        ].join('\n'),
      );
    });

  program
    .command('drain')
    .description('(admin) move every chunk off a storage node, which then takes no new ones')
    .argument('<nodeId>', 'the node id')
    .action(async (nodeId: string) => {
      const cli = context();
      const node = await withClient(cli, (client) => client.drainNode(nodeId));
      cli.print(node, () => `${node.nodeId}: ${node.status}`);
    });
}
