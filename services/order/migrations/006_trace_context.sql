-- The W3C trace context of the request that placed the order ({"traceparent": …}; null when tracing is
-- off): GET /orders/{id} gives its trace id, and the pricing worker's calls continue that trace.
ALTER TABLE orders ADD COLUMN trace_context json;
