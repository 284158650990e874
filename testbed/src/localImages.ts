import { join } from 'node:path';
import { GhostServer } from './GhostServer.js';
import { REPO_ROOT } from './tools.js';

/** What a container needs from its host to start: ports and paths as the task model mapped them. */
export interface ContainerContext {
  /** The container's writable root: a directory of its own, for this task only. */
  rootDir: string;
  /** The container's environment as the task definition sets it, translated to this host. */
  environment: Readonly<Record<string, string>>;
  /** The host port standing for a container port of the task. */
  hostPort(containerPort: number): number;
  /** The host directory mounted at a container path, if the container mounts one there. */
  mountedAt(containerPath: string): string | undefined;
}

/** How to run an image locally: the process, and environment entries the image itself sets. */
export interface LocalLaunch {
  command: string;
  args: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
}

export type LocalImage = (context: ContainerContext) => Promise<LocalLaunch>;

/** Maps an image URI of the task definition to what runs it here; undefined for an unknown image. */
export type ImageResolver = (image: string) => LocalImage | undefined;

const GHOST_IMAGE = /(?:^|\/)ghost:(\d+\.\d+\.\d+)(?:-[\w.-]+)?$/;
const SERVICE_IMAGE = /(?:^|\/)ghost-ha\/([a-z][a-z0-9-]*):[\w.-]+$/;
// The official image's content directory and port.
const GHOST_CONTENT = '/var/lib/ghost/content';
const GHOST_PORT = 2368;

/**
 * The project's images, run from this checkout: `ghost:<version>` (the official image, any
 * registry) is the installed Ghost of that version, laid out as its image lays it out;
 * `<registry>/ghost-ha/<service>:<tag>` (what scripts/package.sh pushes) is the service's entry
 * point from source.
 */
export const localImages: ImageResolver = (image) => {
  const ghost = GHOST_IMAGE.exec(image);
  if (ghost?.[1]) return ghostImage(ghost[1]);
  const service = SERVICE_IMAGE.exec(image);
  if (service?.[1]) return serviceImage(service[1]);
  return undefined;
};

function ghostImage(version: string): LocalImage {
  return async (context) => {
    const contentDir = context.mountedAt(GHOST_CONTENT) ?? join(context.rootDir, 'content');
    const launch = await GhostServer.layOut({
      version,
      dir: join(context.rootDir, 'ghost'),
      contentDir,
      port: context.hostPort(GHOST_PORT),
      url: context.environment.url ?? `http://127.0.0.1:${context.hostPort(GHOST_PORT)}`,
      // The official image runs in production; its database comes from the environment.
      mode: 'production',
    });
    return { ...launch, env: { NODE_ENV: 'production', ...launch.env } };
  };
}

function serviceImage(name: string): LocalImage {
  return async () => ({
    command: process.execPath,
    args: ['--conditions=source', '--import', 'tsx', join(REPO_ROOT, 'services', name, 'src', 'main.ts')],
    cwd: REPO_ROOT,
    env: {},
  });
}
