-- Events a consumer has handled, written in the same transaction as the handler's effects: a redelivered
-- or duplicated event finds its row and has no second effect. The key is the consumer and the envelope's
-- event id (text: a malformed id must still be recordable, not fail the insert).
CREATE TABLE inbox (
  consumer text NOT NULL,
  event_id text NOT NULL,
  event_type text NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
