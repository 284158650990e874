import fc from 'fast-check';
import type { Fault, Schedule } from './ProtocolSimulation.js';

const task = fc.nat({ max: 5 });

/** Every fault the simulation knows, with durations around the lease's (TTL 10 s, patience 6.5 s). */
export const faultArbitrary: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ kind: fc.constant('pause' as const), task, ms: fc.integer({ min: 50, max: 14_000 }) }),
  fc.record({ kind: fc.constant('dropConnections' as const), task }),
  fc.record({ kind: fc.constant('killLockHolder' as const) }),
  fc.record({ kind: fc.constant('crash' as const), task, fin: fc.boolean() }),
  fc.record({ kind: fc.constant('stop' as const), task }),
  fc.record({ kind: fc.constant('failover' as const), staleMs: fc.integer({ min: 0, max: 8_000 }) }),
  fc.record({ kind: fc.constant('restartServer' as const), downMs: fc.integer({ min: 0, max: 8_000 }) }),
  fc.record({ kind: fc.constant('hangServer' as const), ms: fc.integer({ min: 50, max: 9_000 }) }),
  fc.record({ kind: fc.constant('blockWrites' as const), ms: fc.integer({ min: 50, max: 12_000 }) }),
  fc.record({ kind: fc.constant('stepClock' as const), ms: fc.integer({ min: -20_000, max: 20_000 }) }),
  fc.record({ kind: fc.constant('deleteRow' as const) }),
  fc.record({ kind: fc.constant('dropTable' as const) }),
);

/** Two or three tasks starting within 3 s of each other, then up to 8 faults; ECS asked or not. */
export const scheduleArbitrary: fc.Arbitrary<Schedule> = fc.record({
  starts: fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 2, maxLength: 3 }),
  provisioned: fc.boolean(),
  rttMs: fc.integer({ min: 1, max: 60 }),
  faults: fc.array(fc.record({ afterMs: fc.integer({ min: 0, max: 8_000 }), fault: faultArbitrary }), {
    maxLength: 8,
  }),
  // Half the schedules with takeover on evidence: ECS late by up to half a TTL, or unreachable.
  ecs: fc.oneof(
    fc.constant(undefined),
    fc.record({ delayMs: fc.integer({ min: 0, max: 5_000 }), unreachable: fc.boolean() }),
  ),
});
