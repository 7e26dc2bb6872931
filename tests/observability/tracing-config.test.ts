import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@platform/config';
import { loadTracingConfig, startTracing } from '@platform/observability';
import { startOtlpReceiver, waitFor, type OtlpReceiver } from '@platform/testing';

// The standard OTEL_* variables and the wire: what the services read, and what reaches a collector.
let receiver: OtlpReceiver;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});

afterAll(async () => {
  await receiver.close();
});

describe('tracing configuration (OTEL_* variables)', () => {
  it('is off without an endpoint, or when the SDK is disabled', async () => {
    const none = loadTracingConfig({}, 'order');
    expect(none).toMatchObject({ endpoint: undefined, protocol: 'http/protobuf', serviceName: 'order' });
    expect((await startTracing(none)).enabled).toBe(false);
    const disabled = loadTracingConfig(
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' },
      'order',
    );
    expect((await startTracing(disabled)).enabled).toBe(false);
  });

  it('reads the standard names, and refuses what is not valid with every problem', () => {
    expect(
      loadTracingConfig(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: 'orders-eu',
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.1',
        },
        'order',
      ),
    ).toMatchObject({
      endpoint: 'http://collector:4318',
      protocol: 'http/json',
      serviceName: 'orders-eu',
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.1,
    });
    let error: unknown;
    try {
      loadTracingConfig(
        {
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_TRACES_SAMPLER: 'sometimes',
          OTEL_TRACES_SAMPLER_ARG: '2',
        },
        'order',
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('OTEL_EXPORTER_OTLP_PROTOCOL');
    expect(problems).toContain('OTEL_TRACES_SAMPLER');
    expect(problems).toContain('OTEL_TRACES_SAMPLER_ARG');
  });

  it('exports OTLP/HTTP protobuf (the default protocol) to the endpoint', async () => {
    const tracing = await startTracing(
      loadTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'proto-test' }, 'x'),
    );
    expect(tracing.enabled).toBe(true);
    const span = trace.getTracer('tracing-config.test').startSpan('a-span-sent-as-protobuf');
    const traceId = Buffer.from(span.spanContext().traceId, 'hex');
    span.end();
    await tracing.shutdown();
    await waitFor('the export', () => receiver.requests.length > 0);
    const [request] = receiver.requests;
    expect(request?.contentType).toBe('application/x-protobuf');
    // Protobuf keeps strings as UTF-8 and ids as raw bytes: found in the body without a decoder.
    expect(request?.body.includes('a-span-sent-as-protobuf')).toBe(true);
    expect(request?.body.includes('proto-test')).toBe(true);
    expect(request?.body.includes(traceId)).toBe(true);
  });
});
