-- The W3C trace context of the event that started the placement ({"traceparent": …}; null when tracing
-- is off): every attempt of the worker at the partner continues that trace.
ALTER TABLE placements ADD COLUMN trace_context json;
