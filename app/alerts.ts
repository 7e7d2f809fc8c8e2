// Pure: which gateway alerts become native notifications, what they say, and the breaker state
// they imply. Imports types only; never electron.
import type { AlertEvent } from '../proxy/events.js';

export interface NotificationText {
  title: string;
  body: string;
}

export type BreakerTransition = 'open' | 'closed' | null;

/**
 * A 'breaker' alert's meaning. The emitter may say so in `data.state` ('open', 'half-open',
 * 'closed'); without it, an info-level breaker alert is a recovery and anything louder an opening.
 */
export function breakerTransition(a: AlertEvent): BreakerTransition {
  if (a.kind !== 'breaker') return null;
  const s = a.data?.state;
  if (s === 'open' || s === 'half-open') return 'open';
  if (s === 'closed') return 'closed';
  return a.level === 'info' ? 'closed' : 'open';
}

/** Budget thresholds, fallbacks and breakers opening interrupt the user; the rest stays in the menu. */
export function notificationFor(a: AlertEvent): NotificationText | null {
  const body = a.message.slice(0, 300);
  switch (a.kind) {
    case 'budget': return { title: a.level === 'critical' ? 'Sluice: budget reached' : 'Sluice: budget alert', body };
    case 'fallback': return { title: 'Sluice: using a fallback', body };
    case 'breaker': return breakerTransition(a) === 'open' ? { title: 'Sluice: upstream circuit open', body } : null;
    default: return a.level === 'critical' ? { title: 'Sluice alert', body } : null;
  }
}

/**
 * Drops a repeat of the same alert (kind + message) within `cooldownMs`: a fallback that fires
 * on every request of an outage would otherwise bury the desktop.
 */
export function createNotificationGate(cooldownMs: number, now: () => number): (a: AlertEvent) => boolean {
  const lastShown = new Map<string, number>();
  return (a) => {
    const key = `${a.kind}\u0000${a.message}`;
    const t = now();
    const prev = lastShown.get(key);
    if (prev !== undefined && t - prev < cooldownMs) return false;
    lastShown.set(key, t);
    if (lastShown.size > 200) {
      for (const [k, at] of lastShown) if (t - at >= cooldownMs) lastShown.delete(k);
    }
    return true;
  };
}
