import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'registered-webhooks.json';

/**
 * Ghost's ids of the webhooks this service created, by event, kept beside the journal (Ghost has no
 * endpoint that lists webhooks, and refusing a duplicate returns no id): what updating their secret
 * after a rotation needs. Written whole to a temporary file and renamed, so a crash leaves the old
 * file or the new one.
 */
export class RegisteredWebhooks {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The ids kept; none when the file is missing or unreadable (webhooks registered before ids were kept). */
  async load(): Promise<Record<string, string>> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(join(this.#dir, FILE), 'utf8'));
    } catch {
      return {};
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed as Record<string, unknown>).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string' && /^[0-9a-f]{24}$/.test(entry[1]),
      ),
    );
  }

  /** Adds (or replaces) ids by event. */
  async add(ids: Readonly<Record<string, string>>): Promise<void> {
    if (Object.keys(ids).length === 0) return;
    const merged = { ...(await this.load()), ...ids };
    await mkdir(this.#dir, { recursive: true });
    const temporary = join(this.#dir, `${FILE}.tmp`);
    await writeFile(temporary, `${JSON.stringify(merged)}\n`, { mode: 0o600 });
    await rename(temporary, join(this.#dir, FILE));
  }
}
