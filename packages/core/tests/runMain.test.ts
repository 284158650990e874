import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { type MainContext, type MainIo, type MainSignal, type RunMainOptions, runMain } from '../src/runMain.js';

/** The process as runMain sees it: signals to send, a clock to advance, what was written and exited. */
function fakeProcess() {
  const listeners = new Map<MainSignal, () => void>();
  const crashListeners: ((error: unknown) => void)[] = [];
  const timers: { due: number; run: () => void; cancelled: boolean }[] = [];
  const stderr: string[] = [];
  const exits: number[] = [];
  let now = 0;
  const io: MainIo = {
    onSignal: (signal, listener) => listeners.set(signal, listener),
    exit: (code) => exits.push(code),
    stderr: (text) => stderr.push(text),
    onCrash: (listener) => crashListeners.push(listener),
    after: (ms, run) => {
      const timer = { due: now + ms, run, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
  };
  return {
    io,
    stderr,
    exits,
    signal: (signal: MainSignal) => listeners.get(signal)?.(),
    crash: (error: unknown) => {
      for (const listener of crashListeners) listener(error);
    },
    /** Moves the clock, running each timer that falls due (and the promises it settles). */
    advance: async (ms: number) => {
      now += ms;
      for (const timer of timers.filter((t) => !t.cancelled && t.due <= now)) {
        timer.cancelled = true;
        timer.run();
        await settle();
      }
    },
    pendingTimers: () => timers.filter((t) => !t.cancelled).length,
  };
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, logger: createLogger({ service: 'svc', destination }) };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A promise settled from outside, for a stop or a flush that takes its time. */
function deferred<T = void>() {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function start(main: RunMainOptions['main'], extra: Partial<RunMainOptions> = {}) {
  const fake = fakeProcess();
  const log = capture();
  const exited = runMain({ name: 'svc', main, logger: log.logger, io: fake.io, ...extra });
  return { ...fake, lines: log.lines, exited };
}

describe('runMain start-up failures', () => {
  it('a ConfigError: one stderr line per problem with the variable and an example, a fatal log with the problems, exit 78', async () => {
    const run = start(async () => {
      throw new ConfigError([
        "'PORT' is not a whole number (got '80a'). E.g. PORT=8080",
        "'SITE_URL' is required. E.g. SITE_URL=https://blog.example.com",
      ]);
    });
    expect(await run.exited).toBe(78);
    expect(run.exits).toEqual([78]);
    expect(run.stderr).toEqual([
      "svc: Invalid configuration:\n  - 'PORT' is not a whole number (got '80a'). E.g. PORT=8080\n  - 'SITE_URL' is required. E.g. SITE_URL=https://blog.example.com\n",
    ]);
    expect(run.lines).toEqual([
      expect.objectContaining({
        level: 'fatal',
        msg: 'invalid configuration',
        problems: [
          "'PORT' is not a whole number (got '80a'). E.g. PORT=8080",
          "'SITE_URL' is required. E.g. SITE_URL=https://blog.example.com",
        ],
      }),
    ]);
  });

  it('any other error: the summary only (no request headers, no stack), exit 1', async () => {
    const sdkError = Object.assign(new Error('Access denied'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
      $response: { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE' } },
    });
    const run = start(async () => {
      throw sdkError;
    });
    expect(await run.exited).toBe(1);
    expect(run.stderr).toEqual(['svc: start-up failed: Access denied\n']);
    expect(run.lines).toEqual([
      expect.objectContaining({
        level: 'fatal',
        msg: 'start-up failed',
        error: { name: 'AccessDeniedException', message: 'Access denied', status: 403 },
      }),
    ]);
    expect(JSON.stringify(run.lines)).not.toContain('AKIDEXAMPLE');
    expect(run.stderr.join('')).not.toMatch(/\n\s+at /);
  });

  it('names what failed when given, and counts a thrown non-error too', async () => {
    const run = start(
      async () => {
        throw 'no bucket';
      },
      { failure: 'the mirror build failed' },
    );
    expect(await run.exited).toBe(1);
    expect(run.stderr).toEqual(['svc: the mirror build failed: no bucket\n']);
  });

  it('logs through the logger main switched to', async () => {
    const configured = capture();
    const run = start(async ({ useLogger }) => {
      useLogger(configured.logger);
      throw new ConfigError(["'X' is required. E.g. X=1"]);
    });
    expect(await run.exited).toBe(78);
    expect(run.lines).toEqual([]);
    expect(configured.lines).toEqual([
      expect.objectContaining({ level: 'fatal', problems: ["'X' is required. E.g. X=1"] }),
    ]);
  });
});

describe('runMain signals', () => {
  it("SIGTERM: the service's stop once, a second signal logged and ignored, then the flushers, then exit 0", async () => {
    const order: string[] = [];
    const stopped = deferred();
    const stops: MainSignal[] = [];
    const run = start(async ({ onStop, onExit }) => {
      onStop((signal) => {
        stops.push(signal);
        return stopped.promise.then(() => order.push('stopped'));
      });
      onExit(() => order.push('flushed'));
      return undefined;
    });
    await settle();
    run.signal('SIGTERM');
    await settle();
    run.signal('SIGINT');
    await settle();
    expect(stops).toEqual(['SIGTERM']);
    expect(run.exits).toEqual([]);
    expect(run.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        signal: 'SIGINT',
        stopping: 'SIGTERM',
        msg: 'already stopping; signal ignored',
      }),
    );
    stopped.resolve();
    expect(await run.exited).toBe(0);
    expect(order).toEqual(['stopped', 'flushed']);
    expect(run.exits).toEqual([0]);
    expect(run.stderr).toEqual([]);
    // The bounds were cancelled: nothing fires later.
    expect(run.pendingTimers()).toBe(0);
  });

  it('a stop that fails: exit 1 with the summary', async () => {
    const run = start(async ({ onStop }) => {
      onStop(async () => {
        throw new Error('journal close failed');
      });
      return undefined;
    });
    await settle();
    run.signal('SIGINT');
    expect(await run.exited).toBe(1);
    expect(run.stderr).toEqual(['svc: stop failed: journal close failed\n']);
    expect(run.lines).toContainEqual(
      expect.objectContaining({
        level: 'fatal',
        msg: 'stop failed',
        error: { name: 'Error', message: 'journal close failed' },
      }),
    );
  });

  it('a stop that overruns its bound: exit 1 at the bound, not before', async () => {
    const run = start(async ({ onStop }) => {
      onStop(() => new Promise(() => undefined), { timeoutMs: 4_000 });
      return undefined;
    });
    await settle();
    run.signal('SIGTERM');
    await run.advance(3_999);
    expect(run.exits).toEqual([]);
    await run.advance(1);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toEqual(['svc: did not stop within 4000 ms\n']);
    expect(run.lines).toContainEqual(
      expect.objectContaining({ level: 'fatal', msg: 'stop overran its bound', timeoutMs: 4_000 }),
    );
  });

  it('without a bound from onStop, stopTimeoutMs applies', async () => {
    const run = start(
      async ({ onStop }) => {
        onStop(() => new Promise(() => undefined));
        return undefined;
      },
      { stopTimeoutMs: 100 },
    );
    await settle();
    run.signal('SIGTERM');
    await run.advance(100);
    expect(await run.exited).toBe(1);
  });

  it('a signal before anything registered a stop exits at once with 128 + its number', async () => {
    const sigterm = start(() => new Promise(() => undefined));
    sigterm.signal('SIGTERM');
    expect(await sigterm.exited).toBe(143);
    const sigint = start(() => new Promise(() => undefined));
    sigint.signal('SIGINT');
    expect(await sigint.exited).toBe(130);
    expect(sigint.lines).toContainEqual(expect.objectContaining({ level: 'warn', signal: 'SIGINT' }));
  });
});

describe('runMain commands and exits', () => {
  it("a command's code is its exit code", async () => {
    const run = start(async () => 3);
    expect(await run.exited).toBe(3);
    expect(run.stderr).toEqual([]);
  });

  it('an interrupted command that stops exits with the code it returns, not 0', async () => {
    const interrupted = deferred();
    const run = start(async ({ onStop }) => {
      onStop(async () => {
        interrupted.resolve();
      });
      await interrupted.promise;
      await settle();
      return 130;
    });
    await settle();
    run.signal('SIGINT');
    expect(await run.exited).toBe(130);
  });

  it('exit from the service (fencing): flushers, then that code once; later exits are ignored', async () => {
    const flushed = deferred();
    let context: MainContext | undefined;
    const run = start(async (given) => {
      context = given;
      given.onExit(() => flushed.promise);
      return undefined;
    });
    await settle();
    context?.exit(75);
    context?.exit(0);
    await settle();
    expect(run.exits).toEqual([]);
    flushed.resolve();
    expect(await run.exited).toBe(75);
    expect(run.exits).toEqual([75]);
    run.signal('SIGTERM');
    await settle();
    expect(run.exits).toEqual([75]);
  });

  it('a flusher that hangs or fails never holds the exit past its bound', async () => {
    const run = start(
      async ({ onExit, exit }) => {
        onExit(() => new Promise(() => undefined));
        onExit(async () => {
          throw new Error('stdout closed');
        });
        exit(0);
        return undefined;
      },
      { flushTimeoutMs: 500 },
    );
    await settle();
    await run.advance(499);
    expect(run.exits).toEqual([]);
    await run.advance(1);
    expect(await run.exited).toBe(0);
    expect(run.lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'flushing before exit failed' }));
    expect(run.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'flushing before exit overran its bound; exiting without it' }),
    );
  });
});

describe('runMain after start-up', () => {
  it('an uncaught error: a fatal log with the summarised error, one stderr line without a stack, flushers, exit 1', async () => {
    const flushed: string[] = [];
    const run = start(async ({ onStop, onExit }) => {
      onStop(async () => undefined);
      onExit(() => flushed.push('metrics'));
      return undefined;
    });
    await settle();
    const error = Object.assign(new TypeError('cannot read properties of undefined'), {
      request: { headers: { authorization: 'Bearer secret' } },
    });
    run.crash(error);
    run.crash(new Error('a second one changes nothing'));
    await settle();
    expect(run.exits).toEqual([1]);
    expect(run.stderr).toEqual(['svc: crashed: cannot read properties of undefined\n']);
    expect(flushed).toEqual(['metrics']);
    const fatal = run.lines.filter((line) => line.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({
      msg: 'uncaught error; exiting',
      error: { name: 'TypeError', message: 'cannot read properties of undefined' },
    });
    expect(JSON.stringify(run.lines)).not.toContain('Bearer secret');
  });
});
