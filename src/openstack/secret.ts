import { inspect } from 'node:util';

const redacted = '[redacted]';

/**
 * A credential value (password, token, application credential secret) that
 * prints as `[redacted]` through String(), JSON.stringify, util.inspect and
 * pino, so a config object can be logged by mistake without leaking it.
 * Only {@link Secret.reveal} returns the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** Returns the plain value; call it only where the value goes on the wire. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return redacted;
  }

  toJSON(): string {
    return redacted;
  }

  [inspect.custom](): string {
    return redacted;
  }
}
