import type { Command } from 'commander';

/** The names a command line can go on with after `words`: subcommands, then options. */
function candidates(program: Command, words: string[]): string[] {
  let command = program;
  for (const word of words) {
    const next = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) break;
    command = next;
  }
  return [...command.commands.map((c) => c.name()), ...command.options.map((o) => o.long ?? o.short ?? '')].filter(Boolean);
}

const BASH = `# cloudstore completion for bash: eval "$(cloudstore completion bash)"
_cloudstore() {
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$(cloudstore __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _cloudstore cloudstore
`;

const ZSH = `# cloudstore completion for zsh: eval "$(cloudstore completion zsh)"
_cloudstore() {
  local -a words_after
  words_after=(\${(f)"$(cloudstore __complete \${words[2,CURRENT-1]} 2>/dev/null)"})
  compadd -- $words_after
  _files
}
compdef _cloudstore cloudstore
`;

export function completionCommand(program: Command): void {
  program
    .command('completion')
    .description('print shell completion: eval "$(cloudstore completion bash)" (or zsh)')
    .argument('[shell]', 'bash or zsh', 'bash')
    .action((shell: string) => {
      process.stdout.write(shell === 'zsh' ? ZSH : BASH);
    });
  // What the completion scripts ask: the words that may come next after the command line so far.
  program
    .command('__complete', { hidden: true })
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .action((_options: unknown, command: Command) => {
      process.stdout.write(`${candidates(program, command.args).join('\n')}\n`);
    });
}
