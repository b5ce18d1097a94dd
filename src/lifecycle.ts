// Whether this process is stopping: set by main.ts on SIGTERM/SIGINT before the app closes, read by
// whatever must answer differently meanwhile (a readiness route answers 503 so the load balancer
// stops sending work while in-flight requests finish). `app.lifecycle` on the Fastify instance.
import { EventEmitter } from 'node:events';

export interface Lifecycle {
  /** True from the stop signal on. */
  readonly stopping: boolean;
  /** Marks the process as stopping and emits 'stopping' once. */
  beginStopping(): void;
  /** Emits 'stopping' once, when beginStopping() is first called. */
  readonly events: EventEmitter<{ stopping: [] }>;
}

export function createLifecycle(): Lifecycle {
  let stopping = false;
  const events = new EventEmitter<{ stopping: [] }>();
  return {
    get stopping() {
      return stopping;
    },
    beginStopping() {
      if (stopping) return;
      stopping = true;
      events.emit('stopping');
    },
    events,
  };
}
