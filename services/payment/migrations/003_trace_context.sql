-- The W3C trace context of the event or call that last gave the worker something to do for this payment
-- ({"traceparent": …}; null when tracing is off): the worker's charge or refund continues that trace.
ALTER TABLE payments ADD COLUMN trace_context json;
