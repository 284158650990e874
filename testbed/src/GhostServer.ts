import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GhostAdminClient, type GhostPost } from '@ghost-ha/core';
import { freePort } from './freePort.js';
import { ManagedProcess } from './ManagedProcess.js';
import type { DatabaseSettings } from './MariaDbServer.js';
import { ghostInstallDir, ghostNodeBinary, ghostVersion } from './tools.js';
import { waitFor } from './waitFor.js';

export interface GhostServerOptions {
  /** Default: `GHOST_VERSION`, or "ghost" in versions.json. */
  version?: string;
  /** A MySQL database (MariaDB from the test bed): Ghost runs in production mode on it. Default: SQLite in development mode. */
  database?: DatabaseSettings;
  /** Extra Ghost config as env vars (`__` separates levels), e.g. `{ caching__frontend__maxAge: '60' }`. */
  config?: Record<string, string>;
}

/**
 * The running test file's Vitest tags, comma-separated (set by the integration project's setup file).
 * Ghost starts only for a file tagged `ghost`: the run on the compatibility release selects by it.
 */
export const TEST_FILE_TAGS_VARIABLE = 'GHOST_HA_TEST_FILE_TAGS';

export interface GhostLayout {
  version: string;
  /** The instance directory: config file, `current` link; Ghost's working directory. */
  dir: string;
  contentDir: string;
  /** Where Ghost listens, on 127.0.0.1. */
  port: number;
  /** Ghost's site url (an environment variable `url` overrides it). */
  url: string;
  /** MySQL (production mode); SQLite in `contentDir` (development mode) when undefined. */
  database?: DatabaseSettings | undefined;
  /** Without a database: development (default) or production, whose database comes from the environment. */
  mode?: 'development' | 'production';
}

/** How to run a laid-out Ghost: its own environment entries go on top of the caller's. */
export interface GhostLaunch {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export const OWNER = {
  name: 'Test Owner',
  email: 'owner@example.com',
  password: 'Correct-Horse-Battery-9',
  blogTitle: 'Ghost HA test site',
} as const;

/**
 * A real Ghost from the npm package, on a free port, with its own content directory and database,
 * set up with an owner and a custom integration whose Admin API key `admin` uses.
 */
export class GhostServer {
  readonly version: string;
  readonly dir: string;
  readonly contentDir: string;
  readonly port: number;
  readonly url: string;
  adminApiKey = '';
  contentApiKey = '';
  #admin: GhostAdminClient | undefined;
  #process: ManagedProcess | undefined;
  #cookie = '';
  readonly #options: GhostServerOptions;

  private constructor(options: GhostServerOptions, dir: string, port: number, url = `http://127.0.0.1:${port}`) {
    this.#options = options;
    this.version = options.version ?? ghostVersion();
    this.dir = dir;
    this.contentDir = join(dir, 'content');
    this.port = port;
    this.url = url;
  }

  static async start(options: GhostServerOptions = {}): Promise<GhostServer> {
    const fileTags = process.env[TEST_FILE_TAGS_VARIABLE];
    if (fileTags !== undefined && !fileTags.split(',').includes('ghost')) {
      throw new Error(
        "This test file starts Ghost: put '// @module-tag ghost' at its top, so the run on every tested Ghost release includes it.",
      );
    }
    const dir = await mkdtemp(join(tmpdir(), 'ghost-ha-ghost-'));
    const ghost = new GhostServer(options, dir, await freePort());
    try {
      await GhostServer.layOut({
        version: ghost.version,
        dir,
        contentDir: ghost.contentDir,
        port: ghost.port,
        url: ghost.url,
        database: options.database,
      });
      await ghost.start();
      await ghost.setUp();
    } catch (error) {
      await ghost.destroy();
      throw error;
    }
    return ghost;
  }

  /**
   * Lays out one Ghost instance the way Ghost-CLI and the official image do: an instance directory
   * with `config.<env>.json` and a `current` link to the installed release, and a content directory
   * with its folders and the default themes (kept when already there: a shared content volume).
   * Returns how to run it; environment variables (`url`, `database__*`) override the config file.
   */
  static async layOut(layout: GhostLayout): Promise<GhostLaunch> {
    const installDir = ghostInstallDir(layout.version);
    const mode = layout.database ? 'production' : (layout.mode ?? 'development');
    for (const sub of ['data', 'images', 'files', 'media', 'logs', 'settings', 'public']) {
      await mkdir(join(layout.contentDir, sub), { recursive: true });
    }
    await cp(join(installDir, 'content', 'themes'), join(layout.contentDir, 'themes'), {
      recursive: true,
      force: false,
    });
    // Ghost finds its package root through a `current` link in its working directory (the layout
    // Ghost-CLI uses), and reads config.<env>.json from that directory: one directory per instance.
    await mkdir(layout.dir, { recursive: true });
    await symlink(installDir, join(layout.dir, 'current'));
    await writeFile(join(layout.dir, `config.${mode}.json`), JSON.stringify(ghostConfig(layout), null, 2));
    return {
      command: ghostNodeBinary(),
      args: [join(layout.dir, 'current', 'index.js')],
      cwd: layout.dir,
      env: { NODE_ENV: mode },
    };
  }

  /**
   * A Ghost started elsewhere (e.g. by the ECS task model), reached at `url`: for setting it up
   * (`setUp`) and for `admin` and `staffRequest`. It has no process or directory of its own here.
   */
  static adopt(url: string, options: { version?: string } = {}): GhostServer {
    return new GhostServer({ version: options.version }, '', Number(new URL(url).port), url);
  }

  get mode(): 'development' | 'production' {
    return this.#options.database ? 'production' : 'development';
  }

  get admin(): GhostAdminClient {
    if (!this.#admin) throw new Error('Ghost is not set up yet');
    return this.#admin;
  }

  get isRunning(): boolean {
    return this.#process?.isRunning ?? false;
  }

  /** Ghost's process id while it runs, e.g. to hang it with SIGSTOP. */
  get pid(): number | undefined {
    return this.isRunning ? this.#process?.pid : undefined;
  }

  /** Starts Ghost (again) and waits until it serves the Admin API (it answers 503 while booting). */
  async start(): Promise<void> {
    // Ghost leaves files of its own in the temporary directory (an uploaded image's processed copy):
    // they go in the instance's directory, removed with it.
    const temporary = join(this.dir, 'tmp');
    await mkdir(temporary, { recursive: true });
    this.#process = new ManagedProcess({
      name: 'ghost',
      command: ghostNodeBinary(),
      args: [join(this.dir, 'current', 'index.js')],
      cwd: this.dir,
      env: { ...process.env, TMPDIR: temporary, NODE_ENV: this.mode, ...this.#options.config },
      logFile: join(this.dir, 'ghost.log'),
    });
    this.#process.start();
    const managed = this.#process;
    await waitFor(
      async () => {
        const response = await fetch(`${this.url}/ghost/api/admin/site/`, { redirect: 'manual' });
        return response.status === 200 ? true : undefined;
      },
      {
        what: `Ghost ${this.version} to boot`,
        timeoutMs: 180_000,
        intervalMs: 250,
        abortIf: () => (managed.isRunning ? undefined : `Ghost exited:\n${managed.tail()}`),
      },
    );
  }

  async stop(): Promise<void> {
    await this.#process?.stop(15_000);
  }

  async kill(): Promise<void> {
    await this.#process?.kill();
  }

  /** Sends Ghost's process a signal, e.g. SIGSTOP/SIGCONT for a hang that is not a crash. */
  signal(signal: NodeJS.Signals): void {
    this.#process?.signal(signal);
  }

  async destroy(): Promise<void> {
    await this.kill();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  /** Registers a webhook on the test integration; Ghost delivers it to `targetUrl` on `event`. */
  async registerWebhook(event: string, targetUrl: string, secret?: string): Promise<Record<string, unknown>> {
    return this.admin.addWebhook({
      event,
      target_url: targetUrl,
      name: `${event} → test`,
      ...(secret ? { secret } : {}),
    });
  }

  /** Creates `count` posts through the Admin API, one request each (about 10 per second). */
  async seedPosts(
    count: number,
    options: {
      status?: 'published' | 'draft';
      tags?: string[];
      titlePrefix?: string;
      resource?: 'posts' | 'pages';
      /**
       * Each published post gets a second of its own, in the last `count` seconds before now that
       * no published post holds yet (the oldest first). Ghost stores published_at to the second and
       * lists by `published_at desc` alone (its Content API's default order, which the theme's
       * listings and {{#get}} use), so posts created in the same second come in whatever order
       * MariaDB returns them, which can change between two requests with no change to the site: a
       * test that compares two renders of a listing needs this. Two such batches interleave.
       */
      distinctSeconds?: boolean;
    } = {},
  ): Promise<GhostPost[]> {
    const posts: GhostPost[] = [];
    const prefix = options.titlePrefix ?? 'Seeded post';
    const published = (options.status ?? 'published') === 'published';
    const seconds: number[] = [];
    if (options.distinctSeconds && published) {
      const existing = await this.admin.browse(options.resource ?? 'posts', {
        limit: 100,
        filter: 'status:published',
        fields: 'published_at',
      });
      const taken = new Set(existing.items.map((post) => Math.floor(Date.parse(String(post.published_at)) / 1000)));
      for (let second = Math.floor(Date.now() / 1000) - 1; seconds.length < count; second--) {
        if (!taken.has(second)) seconds.unshift(second);
      }
    }
    for (let i = 0; i < count; i++) {
      const second = seconds[i];
      posts.push(
        await this.admin.add(
          options.resource ?? 'posts',
          {
            title: `${prefix} ${i + 1}`,
            html: `<p>Body of ${prefix.toLowerCase()} ${i + 1}.</p>`,
            status: options.status ?? 'published',
            tags: options.tags ?? [],
            ...(second !== undefined ? { published_at: new Date(second * 1000).toISOString() } : {}),
          },
          { source: 'html' },
        ),
      );
    }
    return posts;
  }

  /**
   * A call as the owner (session cookie), for what integrations may not do, such as editing
   * settings. Path relative to `/ghost/api/admin`.
   */
  async staffRequest(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    if (!this.#cookie) await this.#signIn();
    // A form (an upload) is sent as multipart, with the boundary fetch sets.
    const form = body instanceof FormData;
    const response = await fetch(`${this.url}/ghost/api/admin${path}`, {
      method,
      headers: {
        Origin: this.url,
        Cookie: this.#cookie,
        ...(body === undefined || form ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** First boot: creates the owner and a custom integration whose Admin API key `admin` uses. */
  async setUp(): Promise<void> {
    const setup = await fetch(`${this.url}/ghost/api/admin/authentication/setup/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: this.url },
      body: JSON.stringify({ setup: [OWNER] }),
    });
    if (!setup.ok) throw new Error(`Ghost setup failed: HTTP ${setup.status} ${await setup.text()}`);
    const created = await this.staffRequest('POST', '/integrations/?include=api_keys', {
      integrations: [{ name: 'ghost-ha test integration' }],
    });
    if (created.status !== 201) {
      throw new Error(`Creating the integration failed: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    }
    const integration = (
      created.body as { integrations: { api_keys: { type: string; id: string; secret: string }[] }[] }
    ).integrations[0];
    for (const key of integration?.api_keys ?? []) {
      const full = key.secret.includes(':') ? key.secret : `${key.id}:${key.secret}`;
      if (key.type === 'admin') this.adminApiKey = full;
      if (key.type === 'content') this.contentApiKey = key.secret;
    }
    if (!this.adminApiKey) throw new Error('The integration came back without an Admin API key');
    this.#admin = new GhostAdminClient({ url: this.url, adminApiKey: this.adminApiKey });
  }

  async #signIn(): Promise<void> {
    const response = await fetch(`${this.url}/ghost/api/admin/session/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: this.url },
      body: JSON.stringify({ username: OWNER.email, password: OWNER.password }),
    });
    // Read the whole answer first: Ghost stores the session only as the response ends, and a request
    // sent on the cookie as soon as the headers arrive can beat it and be refused (403).
    const body = await response.text();
    if (!response.ok) throw new Error(`Signing in as the owner failed: HTTP ${response.status} ${body}`);
    const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
    this.#cookie = cookies.join('; ');
  }
}

function ghostConfig(layout: GhostLayout): Record<string, unknown> {
  const database = layout.database
    ? {
        client: 'mysql',
        connection: {
          host: layout.database.host,
          port: layout.database.port,
          user: layout.database.user,
          password: layout.database.password,
          database: layout.database.database,
          ...(layout.database.ssl ? { ssl: { ca: layout.database.ssl.ca, rejectUnauthorized: true } } : {}),
        },
      }
    : layout.mode === 'production'
      ? undefined
      : {
          client: 'sqlite3',
          connection: { filename: join(layout.contentDir, 'data', 'ghost.db') },
          useNullAsDefault: true,
        };
  return {
    url: layout.url,
    server: { host: '127.0.0.1', port: layout.port },
    ...(database ? { database } : {}),
    paths: { contentPath: layout.contentDir },
    logging: { level: 'info', transports: ['stdout'] },
    mail: { transport: 'stub' },
    // No calls to the outside world (update checks, gravatar, ...): the machine has no network.
    privacy: { useTinfoil: true },
    // Ghost 6 refuses webhook targets on loopback addresses unless this is set; 5.x ignores it.
    security: { staffDeviceVerification: false, allowWebhookInternalIPs: true },
  };
}
