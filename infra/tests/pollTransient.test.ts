import { describe, expect, it } from 'vitest';
import { WaitTimeoutError } from '../src/errors.js';
import { type Pacing, poll } from '../src/switch/poll.js';
import { isTransientAwsFailure } from '../src/upgrade/aws/isTransientAwsFailure.js';

/** A clock that moves only when the wait sleeps. */
function fakePacing(): Pacing {
  let now = 0;
  return {
    intervalMs: 1_000,
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    timeoutScale: 1,
  };
}

const timeout = Object.assign(new Error('a request has exceeded the configured 1000 ms requestTimeout'), {
  name: 'TimeoutError',
});
const throttled = Object.assign(new Error('Rate exceeded'), {
  name: 'ThrottlingException',
  $metadata: { httpStatusCode: 400 },
  $retryable: { throttling: true },
});
const unavailable = Object.assign(new Error('down'), {
  name: 'ServiceUnavailable',
  $metadata: { httpStatusCode: 503 },
});
const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const denied = Object.assign(new Error('not authorized'), {
  name: 'AccessDeniedException',
  $metadata: { httpStatusCode: 400 },
});
const verdict = new Error('The deployment of the target failed: tasks failed to start');

describe('isTransientAwsFailure', () => {
  it('takes a timeout, throttling, a 5xx and a dropped connection for "no answer this time"', () => {
    expect([timeout, throttled, unavailable, reset].map(isTransientAwsFailure)).toEqual([true, true, true, true]);
  });

  it('takes a refusal (4xx), a verdict of our own and a non-error for what they are', () => {
    expect([denied, verdict, 'text', undefined].map(isTransientAwsFailure)).toEqual([false, false, false, false]);
  });
});

describe('poll with transient errors', () => {
  it('goes on past reads AWS did not answer, showing them as the state, until done', async () => {
    const answers: (Error | boolean)[] = [timeout, throttled, false, true];
    const seen: string[] = [];
    const state = await poll(
      'Ghost to become healthy',
      60_000,
      fakePacing(),
      async () => {
        const answer = answers.shift();
        if (answer instanceof Error) throw answer;
        return { done: answer === true, state: answer ? 'running 1' : 'running 0' };
      },
      (s) => seen.push(s),
      { transient: isTransientAwsFailure },
    );
    expect(state).toBe('running 1');
    expect(seen[0]).toMatch(/^no answer \(TimeoutError: a request has exceeded/);
    expect(seen[1]).toMatch(/^no answer \(ThrottlingException: Rate exceeded\)/);
  });

  it('stops at once on a refusal or a verdict, and at the deadline when AWS never answers', async () => {
    for (const error of [denied, verdict]) {
      await expect(
        poll('x', 60_000, fakePacing(), async () => Promise.reject(error), undefined, {
          transient: isTransientAwsFailure,
        }),
      ).rejects.toBe(error);
    }
    const never = poll('Ghost to stop', 10_000, fakePacing(), async () => Promise.reject(timeout), undefined, {
      transient: isTransientAwsFailure,
    });
    await expect(never).rejects.toBeInstanceOf(WaitTimeoutError);
    await expect(never).rejects.toThrow(/no answer \(TimeoutError/);
  });

  it('without the option, any error ends the wait (the switch steps rely on it)', async () => {
    await expect(poll('x', 60_000, fakePacing(), async () => Promise.reject(timeout))).rejects.toBe(timeout);
  });
});
