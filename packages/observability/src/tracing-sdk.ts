import { FastifyOtelInstrumentation } from '@fastify/otel';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Tracing } from './tracing.js';
import type { TracingConfig } from './tracing.config.js';

function samplerOf(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

/** Paths whose requests are not traced: probes and scrapes would otherwise be most of the spans. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|$)/;

/**
 * Registers the global tracer provider (OTLP/HTTP exporter, batch span processor, the configured sampler),
 * the W3C trace-context propagator and the instrumentations: Fastify's (`@fastify/otel`, on every app
 * created afterwards), `pg`'s and `undici`'s. Loaded only when tracing is on (see `startTracing`).
 */
export function startTracingSdk(config: TracingConfig & { endpoint: string }): Tracing {
  const url = `${config.endpoint}/v1/traces`;
  const exporter =
    config.protocol === 'http/json' ? new OtlpJsonExporter({ url }) : new OtlpProtobufExporter({ url });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    sampler: samplerOf(config),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: config.exportDelayMs })],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        // One span per request; a span per hook and per handler was most of the spans and told nothing.
        instrumentHooks: false,
        instrumentHandler: false,
        ignorePaths: ({ url: path }) => UNTRACED_PATHS.test(path),
        // Named as HTTP server spans are (`POST /orders`), not all `request`.
        requestHook: (span, request) =>
          span.updateName(`${request.method} ${request.routeOptions.url ?? request.url}`),
      }),
      // Only queries inside a request, an event or a worker's call: a poll's lone query is noise.
      new PgInstrumentation({ requireParentSpan: true }),
      new UndiciInstrumentation(),
    ],
  });
  return {
    enabled: true,
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}
