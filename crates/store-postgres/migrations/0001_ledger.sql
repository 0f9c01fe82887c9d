-- memberledger on PostgreSQL, schema version 1: one ledger per database schema.
--
-- One row of chain_head is the end of the chain; an append locks it, checks and seals its
-- events after it, inserts them and advances it, all in one transaction. The constraints make
-- a fork, a duplicate command or a lost race impossible even for a writer that skipped the lock:
-- one event per position, one event per stream version, one record per command id.

CREATE TABLE chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position bigint NOT NULL CHECK (position >= 0),
    hash bytea NOT NULL CHECK (octet_length(hash) = 32)
);

INSERT INTO chain_head (singleton, position, hash)
VALUES (true, 0, decode(repeat('00', 32), 'hex'));

-- One row per recorded command: the idempotency key, and where its events are.
CREATE TABLE commands (
    command uuid PRIMARY KEY,
    member text NOT NULL,
    digest bytea NOT NULL CHECK (octet_length(digest) = 32),
    first_position bigint NOT NULL UNIQUE CHECK (first_position > 0),
    event_count integer NOT NULL CHECK (event_count > 0)
);

-- The log: each event's global position, its stream (the member) and version there, the
-- command that recorded it, its chain hash and the exact canonical bytes that were hashed.
CREATE TABLE events (
    position bigint PRIMARY KEY CHECK (position > 0),
    stream text NOT NULL,
    stream_version bigint NOT NULL CHECK (stream_version > 0),
    command uuid NOT NULL REFERENCES commands (command),
    hash bytea NOT NULL CHECK (octet_length(hash) = 32),
    canonical bytea NOT NULL,
    CONSTRAINT events_stream_version_key UNIQUE (stream, stream_version)
);

-- Ledger settings (the policy).
CREATE TABLE settings (
    key text PRIMARY KEY,
    value bytea NOT NULL
);
