// The gateway's in-process event bus: request lifecycle, alerts, breaker changes. The admin
// API streams it to the window; exporters and notifications subscribe. A listener's error is
// contained (logged by the caller's onError), never thrown into the request path.
import type { LedgerRow } from './ledger/index.js';

export interface RequestStartEvent {
  id: string;
  ts: number;
  method: string;
  path: string;
  tool: string;
  model: string | null;
  sessionId: string | null;
  stream: boolean;
}

export interface AlertEvent {
  /** e.g. `budget`, `fallback`, `breaker`. */
  kind: string;
  level: 'info' | 'warning' | 'critical';
  message: string;
  ts: number;
  data?: Record<string, unknown>;
}

/** The active profile changed (the CLI, the tray, the window, or a hand edit of settings.json). */
export interface ProfileSwitchEvent {
  /** The profile active now; null when none is (deleted, or cleared). */
  name: string | null;
  previous: string | null;
  ts: number;
}

export interface GatewayEvents {
  'request:start': RequestStartEvent;
  /** The ledger row of a finished request (metadata only). */
  'request:end': LedgerRow;
  /** Rows were committed to the ledger: queries now see them (the dashboard reloads on this). */
  'ledger:flush': { rows: number; inserted: number };
  alert: AlertEvent;
  'profile:switch': ProfileSwitchEvent;
}

export type EventName = keyof GatewayEvents;

export interface EventBus {
  on<K extends EventName>(type: K, listener: (e: GatewayEvents[K]) => void): () => void;
  emit<K extends EventName>(type: K, event: GatewayEvents[K]): void;
  listenerCount(type: EventName): number;
}

export function createEventBus(onError: (err: unknown, type: EventName) => void = () => {}): EventBus {
  const listeners = new Map<EventName, Set<(e: never) => void>>();
  return {
    on(type, listener) {
      let set = listeners.get(type);
      if (!set) listeners.set(type, (set = new Set()));
      set.add(listener as (e: never) => void);
      return () => { set.delete(listener as (e: never) => void); };
    },
    emit(type, event) {
      const set = listeners.get(type);
      if (!set) return;
      for (const l of [...set]) {
        try {
          (l as (e: typeof event) => void)(event);
        } catch (err) {
          onError(err, type);
        }
      }
    },
    listenerCount: (type) => listeners.get(type)?.size ?? 0,
  };
}
