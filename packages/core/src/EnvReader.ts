import { ConfigError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

interface Common {
  /** A valid value shown in the error message, e.g. `https://blog.example.com`. */
  example: string;
}

interface WithDefault<T> extends Common {
  default: T;
}

interface NumberRange {
  min?: number;
  max?: number;
}

/**
 * Reads typed settings from an environment. Problems are collected rather than thrown one by one,
 * so an operator sees every bad variable at once; call `done()` after the last read to throw them.
 * Empty strings count as unset: task definitions often carry `NAME=""` placeholders.
 */
export class EnvReader {
  readonly #env: Env;
  readonly #problems: string[] = [];

  constructor(env: Env) {
    this.#env = env;
  }

  /** Records a problem found by the caller (e.g. two settings that contradict each other). */
  problem(message: string): void {
    this.#problems.push(message);
  }

  /** Throws a ConfigError listing every problem seen so far. */
  done(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#problems);
  }

  raw(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, options: Common): string;
  string(name: string, options: WithDefault<string>): string;
  string(name: string, options: Common & { optional: true }): string | undefined;
  string(name: string, options: Common & { default?: string; optional?: true }): string | undefined {
    const value = this.raw(name);
    if (value !== undefined) return value;
    if (options.default !== undefined) return options.default;
    if (options.optional) return undefined;
    return this.#missing(name, options.example, '');
  }

  /** A whole number, in range; `0` is allowed where `min` allows it. */
  int(name: string, options: WithDefault<number> & NumberRange): number;
  int(name: string, options: Common & NumberRange): number;
  int(name: string, options: Common & NumberRange & { default?: number }): number {
    const value = this.raw(name);
    if (value === undefined) {
      return options.default ?? this.#missing(name, options.example, 0);
    }
    if (!/^-?\d+$/.test(value)) {
      return this.#invalid(name, value, 'is not a whole number', options.example, options.default ?? 0);
    }
    return this.#inRange(name, Number(value), options);
  }

  /** A decimal number, in range. */
  number(name: string, options: WithDefault<number> & NumberRange): number {
    const value = this.raw(name);
    if (value === undefined) return options.default;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) {
      return this.#invalid(name, value, 'is not a number', options.example, options.default);
    }
    return this.#inRange(name, parsed, options);
  }

  bool(name: string, options: WithDefault<boolean>): boolean {
    const value = this.raw(name);
    if (value === undefined) return options.default;
    const lower = value.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    return this.#invalid(name, value, 'is not a boolean (true/false)', options.example, options.default);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], options: WithDefault<T>): T {
    const value = this.raw(name);
    if (value === undefined) return options.default;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    return this.#invalid(name, value, `must be one of ${allowed.join(', ')}`, options.example, options.default);
  }

  /** Comma-separated values, trimmed, empties dropped. */
  list(name: string, options: WithDefault<readonly string[]>): readonly string[];
  list(name: string, options: Common): readonly string[];
  list(name: string, options: Common & { default?: readonly string[] }): readonly string[] {
    const value = this.raw(name);
    if (value === undefined) return options.default ?? this.#missing(name, options.example, []);
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /**
   * An http(s) URL without a trailing slash, returned as given (minus the slash rule).
   * `path: 'allowed'` keeps a subdirectory such as `https://site.com/blog`.
   */
  url(name: string, options: Common): string;
  url(name: string, options: Common & { optional: true }): string | undefined;
  url(name: string, options: Common & { optional?: true }): string | undefined {
    const value = this.raw(name);
    if (value === undefined) {
      return options.optional ? undefined : this.#missing(name, options.example, '');
    }
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      return this.#invalid(name, value, 'is not a URL', options.example, '');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return this.#invalid(name, value, 'must start with http:// or https://', options.example, '');
    }
    if (value.endsWith('/')) {
      return this.#invalid(name, value, 'must not have a trailing slash', options.example, '');
    }
    if (parsed.search !== '' || parsed.hash !== '') {
      return this.#invalid(name, value, 'must not have a query or fragment', options.example, '');
    }
    return value;
  }

  #inRange(name: string, value: number, options: Common & NumberRange & { default?: number }): number {
    if (options.min !== undefined && value < options.min) {
      return this.#invalid(name, String(value), `must be at least ${options.min}`, options.example, value);
    }
    if (options.max !== undefined && value > options.max) {
      return this.#invalid(name, String(value), `must be at most ${options.max}`, options.example, value);
    }
    return value;
  }

  #missing<T>(name: string, example: string, placeholder: T): T {
    this.#problems.push(`'${name}' is required. E.g. ${name}=${example}`);
    return placeholder;
  }

  #invalid<T>(name: string, value: string, problem: string, example: string, placeholder: T): T {
    this.#problems.push(`'${name}' ${problem} (got '${value}'). E.g. ${name}=${example}`);
    return placeholder;
  }
}
