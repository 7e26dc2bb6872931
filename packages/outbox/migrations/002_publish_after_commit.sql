-- Events are now published by the process that wrote them, right after its transaction commits; the relay
-- only recovers what that missed (a crash, a broker outage), polling for rows older than a few seconds.
-- The NOTIFY that woke the relay on every insert is gone: PostgreSQL serialises the commits of notifying
-- transactions, and it woke a relay for rows that were already being published.
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION outbox_notify();
