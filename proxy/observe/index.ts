// Observability exports as a gateway extension: OTLP traces and metrics from `request:end`,
// signed webhooks from `alert`, and the status route. Uses only GatewayInternals (never the
// HTTP server or gateway.ts code); the CLI side (export, tag stats, webhook, observe) is in cli.ts.
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import type { GatewayExtension, GatewayInternals } from '../gateway.js';
import type { LedgerRow } from '../ledger/index.js';
import { VERSION } from '../version.js';
import { createDeliveryLog, DELIVERY_LOG_FILE } from './delivery-log.js';
import { createOtlpExporter, type OtlpExporter, type OtlpStatus } from './otlp-exporter.js';
import { mountObserveRoutes } from './routes.js';
import { OTLP_SECRET_ACCOUNT, webhookSecretAccount, type ObserveSettings } from './schema.js';
import { createWebhookDispatcher, hostOf, webhookUrlWarning, type WebhookDispatcher, type WebhookStatus } from './webhooks.js';

export { ObserveSettingsSchema, TagsSchema, TAG_KEY_RE, OTLP_SECRET_ACCOUNT, webhookSecretAccount, type ObserveSettings, type WebhookSettings, type Tags } from './schema.js';
export { exportLedger, formatPicoUsd, csvField, csvRecord, EXPORT_COLUMNS, type ExportFormat } from './export.js';
export { signWebhook, verifyWebhookSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhooks.js';
export { runObserveCli, isObserveCommand, parseTagArgs, ObserveCliUsageError, OBSERVE_HELP } from './cli.js';
export { OBSERVE_STATUS_PATH } from './routes.js';

export interface ObserveExtensionOptions {
  /** The admin API's check; without one the status route answers 401. */
  authorize?: (req: IncomingMessage) => boolean | Promise<boolean>;
  /** The observe section; default `settings.observe`. */
  config?: () => ObserveSettings;
  now?: () => number;
  random?: () => number;
  /** undici dispatcher for exports and webhook deliveries (tests). */
  dispatcher?: Dispatcher;
  /** How long keychain reads are reused. Default 60 s. */
  secretTtlMs?: number;
}

export interface ObserveStatus {
  otlp: OtlpStatus & { traces: boolean; metrics: boolean; headerNames: string[]; secretHeader: string | null };
  webhooks: WebhookStatus & { hooks: { id: string; host: string; events: string[]; enabled: boolean; warning: string | null }[] };
}

export interface ObserveExtension extends GatewayExtension {
  otlp: OtlpExporter;
  webhooks: WebhookDispatcher;
  status(): ObserveStatus;
  /** Exports what is queued and waits for pending webhook deliveries (tests, shutdown). */
  flush(): Promise<void>;
}

/**
 * @example
 * createGateway({ dataDir, extensions: [observeExtension({ authorize: admin.authorize }), admin] });
 */
export function observeExtension(opts: ObserveExtensionOptions = {}): (internals: GatewayInternals) => ObserveExtension {
  return (internals) => {
    const now = opts.now ?? Date.now;
    const config = opts.config ?? (() => internals.settings.get().observe);
    const ttl = opts.secretTtlMs ?? 60_000;
    // Keychain reads go through D-Bus; the exporter asks once per batch, so keep them a minute.
    const cache = new Map<string, { at: number; value: Promise<string | null> }>();
    const secret = (account: string): Promise<string | null> => {
      const secrets = internals.secrets;
      if (!secrets) return Promise.resolve(null);
      const hit = cache.get(account);
      if (hit && now() - hit.at < ttl) return hit.value;
      const value = secrets.get(account).then((v) => {
        if (v) internals.logger.addSecret(v);
        return v;
      });
      // A failed read is not cached: the next batch asks again.
      value.catch(() => cache.delete(account));
      cache.set(account, { at: now(), value });
      return value;
    };

    const providerNameOf = (row: LedgerRow): string => {
      const target = row.target ?? row.provider;
      const p = (internals.settings.get().providers as Record<string, { type?: string } | undefined>)[target];
      return p?.type ?? target;
    };

    const otlp = createOtlpExporter({
      config: () => config().otlp,
      secretHeaderValue: () => secret(OTLP_SECRET_ACCOUNT),
      providerNameOf,
      version: VERSION,
      logger: internals.logger,
      now,
      dispatcher: opts.dispatcher,
    });
    const log = createDeliveryLog({
      file: join(internals.dataDir, DELIVERY_LOG_FILE),
      maxBytes: () => config().webhookDelivery.logMaxBytes,
      onError: (err) => internals.logger.warn(`observe: cannot write the webhook delivery log: ${err.message}`),
    });
    const webhooks = createWebhookDispatcher({
      webhooks: () => config().webhooks,
      delivery: () => config().webhookDelivery,
      secretOf: (id) => secret(webhookSecretAccount(id)),
      log,
      version: VERSION,
      logger: internals.logger,
      now,
      random: opts.random,
      dispatcher: opts.dispatcher,
    });

    for (const h of config().webhooks) {
      const w = webhookUrlWarning(h.url);
      if (w) internals.logger.warn(`observe: ${w}`);
    }
    if (config().otlp.enabled) internals.logger.info(`observe: exporting OTLP traces and metrics to ${config().otlp.endpoint}`);

    // Both callbacks only queue: the event bus runs them on the request's own path.
    const offEnd = internals.events.on('request:end', (row) => otlp.enqueue(row));
    const offAlert = internals.events.on('alert', (a) => webhooks.onAlert(a));

    const status = (): ObserveStatus => {
      const c = config();
      return {
        otlp: { ...otlp.status(), traces: c.otlp.traces, metrics: c.otlp.metrics, headerNames: Object.keys(c.otlp.headers), secretHeader: c.otlp.secretHeader },
        webhooks: {
          ...webhooks.status(),
          hooks: c.webhooks.map((h) => ({ id: h.id, host: hostOf(h.url), events: h.events, enabled: h.enabled, warning: webhookUrlWarning(h.url) })),
        },
      };
    };

    return {
      name: 'observe',
      otlp,
      webhooks,
      status,
      flush: async () => {
        await otlp.flush();
        await webhooks.settled();
      },
      routes(app) {
        mountObserveRoutes(app, { authorize: opts.authorize ?? (() => false), status });
      },
      async close() {
        offEnd();
        offAlert();
        await otlp.close();
        await webhooks.close();
      },
    };
  };
}
