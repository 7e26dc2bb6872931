-- Events waiting to be published, written in the same transaction as the change they announce. A row
-- lives here until the broker has confirmed it, then the relay deletes it in the transaction that held
-- its lock: the table is exactly the backlog.
CREATE TABLE outbox (
  id uuid PRIMARY KEY,                               -- the event id, also the AMQP message id
  position bigint GENERATED ALWAYS AS IDENTITY,      -- publication order
  routing_key text NOT NULL,
  correlation_id text NOT NULL,
  message json NOT NULL,                             -- json, not jsonb: published byte for byte as written
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX outbox_position ON outbox (position);

-- One notification per inserting statement, delivered at commit: relays wake without polling.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox', '');
  RETURN NULL;
END $$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
