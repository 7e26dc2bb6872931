-- The W3C trace context the row was written in ({"traceparent": …}), sent with the message as AMQP
-- headers so that its consumers continue the order's trace. Null when tracing is off.
ALTER TABLE outbox ADD COLUMN trace_context json;
