-- Idempotency keys are scoped per customer (SPEC §5): two customers using the same key get two orders. The
-- stored key is the customer's user id, a space and the client's key (a user id never holds a space, so
-- the pair is unambiguous); the keys stored before are given their order's owner.
UPDATE orders SET idempotency_key = user_id || ' ' || idempotency_key WHERE idempotency_key IS NOT NULL;
