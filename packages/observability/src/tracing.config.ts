import { Type, type Static } from 'typebox';
import { parseEnv } from '@platform/config';

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/**
 * The OpenTelemetry SDK's standard variables (opentelemetry.io/docs/specs/otel/configuration/sdk-environment-
 * variables), the subset this system reads: no endpoint means no tracing at all.
 */
export const tracingEnvSchema = Type.Object({
  OTEL_SDK_DISABLED: Type.Boolean({
    default: false,
    description: '`true` turns tracing off whatever else is set',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description:
        "The OTLP/HTTP collector's base URL, e.g. `http://127.0.0.1:4318` (a local Jaeger); spans go to " +
        '`…/v1/traces`; unset or empty: tracing off, the SDK not even loaded',
    }),
  ),
  OTEL_EXPORTER_OTLP_PROTOCOL: Type.Union([Type.Literal('http/protobuf'), Type.Literal('http/json')], {
    default: 'http/protobuf',
    description: 'How spans are sent to the collector',
  }),
  OTEL_SERVICE_NAME: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Each process names itself (`order`, `inventory`, …); set only to override that name',
    }),
  ),
  OTEL_TRACES_SAMPLER: Type.Enum(SAMPLERS, {
    default: 'parentbased_always_on',
    description:
      "The SDK's standard samplers; `parentbased_traceidratio` with OTEL_TRACES_SAMPLER_ARG `0.1` keeps " +
      'one order in ten',
  }),
  OTEL_TRACES_SAMPLER_ARG: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'The ratio of the `traceidratio` samplers, 0 to 1 (`0.1`: one trace in ten; unset: 1)',
    }),
  ),
  OTEL_BSP_SCHEDULE_DELAY: Type.Integer({
    minimum: 0,
    default: 5_000,
    description: 'How long finished spans wait to be exported together, in ms',
  }),
});

/** Tracing as configured: `endpoint` absent (or `disabled`) means no SDK is started. */
export interface TracingConfig {
  disabled: boolean;
  /** The OTLP/HTTP base URL; spans go to `${endpoint}/v1/traces`. */
  endpoint: string | undefined;
  protocol: 'http/protobuf' | 'http/json';
  serviceName: string;
  sampler: (typeof SAMPLERS)[number];
  /** The ratio of the `traceidratio` samplers, 0 to 1 (1 when absent). */
  samplerRatio: number;
  /** How long finished spans wait to be exported together, in ms. */
  exportDelayMs: number;
}

/**
 * Reads the standard `OTEL_*` variables.
 * @param serviceName the service's own name, used unless OTEL_SERVICE_NAME is set
 * @throws ConfigError listing every invalid variable
 */
export function loadTracingConfig(
  env: Record<string, string | undefined>,
  serviceName: string,
): TracingConfig {
  const parsed: Static<typeof tracingEnvSchema> = parseEnv(tracingEnvSchema, env);
  return {
    disabled: parsed.OTEL_SDK_DISABLED,
    endpoint: parsed.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, ''),
    protocol: parsed.OTEL_EXPORTER_OTLP_PROTOCOL,
    serviceName: parsed.OTEL_SERVICE_NAME ?? serviceName,
    sampler: parsed.OTEL_TRACES_SAMPLER,
    samplerRatio: parsed.OTEL_TRACES_SAMPLER_ARG ?? 1,
    exportDelayMs: parsed.OTEL_BSP_SCHEDULE_DELAY,
  };
}
