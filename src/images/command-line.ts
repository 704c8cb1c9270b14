import { ImagePublishError } from './errors.js';

/** Glance's limit on a custom property value, in characters. */
export const maxPropertyLength = 255;

const safeWord = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Formats a container command as the `os_command_line` image property.
 * Nova-Docker hands the string to docker-py, which splits it with Python's
 * `shlex.split`, so each argument is quoted the way `shlex.quote` does and
 * survives the split unchanged. A string is taken as an already formatted
 * command line. Returns undefined for no command; throws an
 * {@link ImagePublishError} with reason `invalidCommand` when the result is
 * longer than Glance allows or contains a NUL.
 */
export function formatCommandLine(
  command: string | readonly string[] | undefined,
  reference: string,
): string | undefined {
  if (command === undefined) return undefined;
  if (typeof command !== 'string' && command.length === 0) return undefined;

  const line = typeof command === 'string' ? command : command.map(quoteArgument).join(' ');
  if (line.includes('\u0000')) {
    throw new ImagePublishError(
      'invalidCommand',
      `the command for image ${reference} contains a NUL character; remove it`,
      {
        reference,
      },
    );
  }
  if (line.length > maxPropertyLength) {
    throw new ImagePublishError(
      'invalidCommand',
      `the command for image ${reference} is ${line.length} characters as os_command_line, ` +
        `but Glance stores at most ${maxPropertyLength}; shorten it or move it into the image`,
      { reference },
    );
  }
  return line.length === 0 ? undefined : line;
}

function quoteArgument(argument: string): string {
  if (argument.length === 0) return "''";
  if (safeWord.test(argument)) return argument;
  return `'${argument.replaceAll("'", `'"'"'`)}'`;
}
