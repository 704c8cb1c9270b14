/** One challenge from a `WWW-Authenticate` header, e.g. `Bearer realm="...",service="..."`. */
export interface AuthChallenge {
  /** Lowercase scheme: `basic` or `bearer` for registries. */
  readonly scheme: string;
  /** Parameters with lowercase names, e.g. `realm`, `service`, `scope`. */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses a `WWW-Authenticate` header value into its challenges (RFC 9110
 * section 11.6.1). Fetch joins repeated headers with ", ", so one value may
 * hold several challenges. Malformed parts are skipped, never thrown.
 */
export function parseAuthChallenges(header: string | null | undefined): AuthChallenge[] {
  if (!header) return [];

  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let position = 0;
  const length = header.length;

  const skip = (pattern: RegExp): void => {
    while (position < length && pattern.test(header[position]!)) position++;
  };
  const readToken = (): string => {
    const start = position;
    while (position < length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[position]!)) position++;
    return header.slice(start, position);
  };
  const readQuoted = (): string => {
    let value = '';
    position++;
    while (position < length && header[position] !== '"') {
      if (header[position] === '\\' && position + 1 < length) position++;
      value += header[position];
      position++;
    }
    position++;
    return value;
  };

  while (position < length) {
    skip(/[\s,]/);
    const token = readToken();
    if (token.length === 0) {
      position++;
      continue;
    }
    skip(/\s/);

    // "name=value" continues the current challenge; a bare token starts a new one.
    if (header[position] === '=' && challenges.length > 0 && header[position + 1] !== '=') {
      position++;
      skip(/\s/);
      const value = header[position] === '"' ? readQuoted() : readToken();
      challenges[challenges.length - 1]!.params[token.toLowerCase()] = value;
    } else {
      challenges.push({ scheme: token.toLowerCase(), params: {} });
    }
  }
  return challenges;
}
