import { HealthMetrics, type Registry } from '@ghost-ha/core';
import { Counter, Gauge, Histogram } from 'prom-client';

/** Every metric the sidecar exports, registered on the app's own registry. */
export class SidecarMetrics {
  readonly registry: Registry;
  /** The health model's verdict and checks (`ghost_ha_health_*`). */
  readonly health: HealthMetrics;
  readonly #lockHeld: Gauge;
  readonly #lockAcquisitions: Counter;
  readonly #lockLosses: Counter;
  readonly #lockRegains: Counter;
  readonly #leaseTakeovers: Counter;
  readonly #staleHolderKills: Counter;
  /** Where the lease age gauge reads its value (seconds, undefined while not holding). */
  readonly readLeaseAgeFrom: (read: () => number | undefined) => void;
  /** Where the heartbeat write age gauge reads its value (seconds, undefined before the first write). */
  readonly readHeartbeatAgeFrom: (read: () => number | undefined) => void;
  readonly #gateRequests: Counter;
  readonly #gateDuration: Histogram;
  readonly #gateByCode = new Map<number, { count: () => void; observe: (seconds: number) => void }>();
  #gateInFlight: () => number = () => 0;

  constructor(registry: Registry) {
    this.registry = registry;
    const registers = [registry];
    this.health = new HealthMetrics(registry, 'ghost_ha');
    this.#lockHeld = new Gauge({
      name: 'ghost_ha_singleton_lock_held',
      help: '1 while this task holds the database lock that lets its Ghost run.',
      registers,
    });
    this.#lockAcquisitions = new Counter({
      name: 'ghost_ha_singleton_lock_acquisitions_total',
      help: 'Times this task took the database lock.',
      registers,
    });
    this.#lockLosses = new Counter({
      name: 'ghost_ha_singleton_lock_losses_total',
      help: 'Times the lock connection of the holder failed its check: reason "connection" (dropped or no answer in time) or "taken" (the lease names another holder).',
      labelNames: ['reason'],
      registers,
    });
    this.#lockRegains = new Counter({
      name: 'ghost_ha_singleton_lock_regains_total',
      help: 'Times the holder took its lock back with its lease still its own (a database restart or failover ridden out, Ghost kept running).',
      registers,
    });
    this.#leaseTakeovers = new Counter({
      name: 'ghost_ha_lease_takeovers_total',
      help: 'Times this task took the lease, by what it found: "none" (no lease yet), "released" (the previous Ghost stopped), "expired" (the previous holder went silent for the lease TTL).',
      labelNames: ['previous'],
      registers,
    });
    this.#staleHolderKills = new Counter({
      name: 'ghost_ha_lease_stale_holder_kills_total',
      help: "Times this task killed the database connection still holding the lock after its holder's lease had expired.",
      registers,
    });
    this.readLeaseAgeFrom = gaugeReadWhenScraped(
      registry,
      'ghost_ha_lease_heartbeat_age_seconds',
      "Time since this task last renewed its lease; it stops its Ghost when this reaches the lease TTL minus Ghost's stop timeout and the margin. Absent on a standby.",
    );
    this.readHeartbeatAgeFrom = gaugeReadWhenScraped(
      registry,
      'ghost_ha_heartbeat_write_age_seconds',
      "Time since this sidecar's last heartbeat write succeeded (since its first attempt while none has): how long the database has not taken a write from it. Absent before the first attempt.",
    );
    this.#gateRequests = new Counter({
      name: 'ghost_ha_gate_requests_total',
      help: 'Requests through the gate by response status code.',
      labelNames: ['code'],
      registers,
    });
    this.#gateDuration = new Histogram({
      name: 'ghost_ha_gate_request_duration_seconds',
      help: 'Time from request to the end of the response through the gate, by status code.',
      labelNames: ['code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const inFlight = () => this.#gateInFlight();
    new Gauge({
      name: 'ghost_ha_gate_requests_in_flight',
      help: 'Requests the gate is forwarding right now.',
      registers,
      // Read when scraped rather than set twice per request.
      collect() {
        this.set(inFlight());
      },
    });
    this.#lockHeld.set(0);
  }

  setLockHeld(held: boolean): void {
    this.#lockHeld.set(held ? 1 : 0);
    if (held) this.#lockAcquisitions.inc();
  }

  recordLockLoss(reason: 'connection' | 'taken'): void {
    this.#lockLosses.inc({ reason });
  }

  recordLockRegain(): void {
    this.#lockRegains.inc();
  }

  recordLeaseTakeover(previous: 'none' | 'released' | 'expired' | 'stopped'): void {
    this.#leaseTakeovers.inc({ previous });
  }

  recordStaleHolderKill(): void {
    this.#staleHolderKills.inc();
  }

  /** Label children are looked up once per status code: this runs for every request through the gate. */
  recordGateRequest(code: number, seconds: number): void {
    let children = this.#gateByCode.get(code);
    if (!children) {
      const counter = this.#gateRequests.labels({ code: String(code) });
      const histogram = this.#gateDuration.labels({ code: String(code) });
      children = { count: () => counter.inc(), observe: (value) => histogram.observe(value) };
      this.#gateByCode.set(code, children);
    }
    children.count();
    children.observe(seconds);
  }

  /** Where the in-flight gauge reads its value. */
  readGateInFlightFrom(read: () => number): void {
    this.#gateInFlight = read;
  }
}

/**
 * A gauge whose value is read when scraped, from the function last given to the setter it returns;
 * absent (no sample) while that function answers undefined.
 */
function gaugeReadWhenScraped(
  registry: Registry,
  name: string,
  help: string,
): (read: () => number | undefined) => void {
  let read: () => number | undefined = () => undefined;
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const value = read();
      if (value === undefined) this.reset();
      else this.set(value);
    },
  });
  return (next) => {
    read = next;
  };
}
