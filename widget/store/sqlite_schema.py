"""The SQLite schema: its migrations, in order, each applied once (schema_migrations
records which). Never edit one that has shipped: add the next."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE campaigns (
        slug TEXT PRIMARY KEY,
        config TEXT NOT NULL,
        revision INTEGER NOT NULL,
        signature_count INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE signatures (
        id INTEGER PRIMARY KEY,
        campaign TEXT NOT NULL REFERENCES campaigns(slug),
        email_key BLOB NOT NULL,
        first_name TEXT NOT NULL,
        last_name TEXT NOT NULL,
        email TEXT NOT NULL,
        country TEXT NOT NULL,
        postal_code TEXT NOT NULL DEFAULT '',
        opt_in INTEGER NOT NULL,
        partner TEXT,
        signed_at TEXT NOT NULL,
        UNIQUE (campaign, email_key)
    );
    CREATE INDEX signatures_campaign_time ON signatures (campaign, signed_at);
    """,
    """
    CREATE TABLE operators (
        email TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE partners (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        contact TEXT NOT NULL DEFAULT '',
        origins TEXT NOT NULL DEFAULT '[]',
        link_key TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    ALTER TABLE signatures ADD COLUMN partner_opt_in INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX signatures_email_key ON signatures (email_key);
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        campaign TEXT,
        detail TEXT NOT NULL DEFAULT ''
    );
    """,
    # Exports page through a campaign by id; without this each page sorted the whole campaign.
    """
    CREATE INDEX signatures_campaign_id ON signatures (campaign, id);
    """,
    # Personal data sealed to the operator's key (and an opted-in partner's); the plaintext
    # columns stay for rows written before, until `petition-widget seal` converts them.
    """
    ALTER TABLE signatures ADD COLUMN sealed BLOB;
    ALTER TABLE signatures ADD COLUMN partner_sealed BLOB;
    ALTER TABLE signatures ADD COLUMN domain_key BLOB;
    ALTER TABLE signatures ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE signatures ADD COLUMN invalid INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE partners ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
    """,
    # Every accepted signature is its own row, a repeated address included, so that the count
    # moves the same way whatever the address (no membership oracle). The unique constraint
    # lives in the table's definition, so the table is rebuilt; every row is copied.
    """
    CREATE TABLE signatures_received (
        id INTEGER PRIMARY KEY,
        campaign TEXT NOT NULL REFERENCES campaigns(slug),
        email_key BLOB NOT NULL,
        first_name TEXT NOT NULL DEFAULT '',
        last_name TEXT NOT NULL DEFAULT '',
        email TEXT NOT NULL DEFAULT '',
        country TEXT NOT NULL,
        postal_code TEXT NOT NULL DEFAULT '',
        opt_in INTEGER NOT NULL,
        partner TEXT,
        signed_at TEXT NOT NULL,
        partner_opt_in INTEGER NOT NULL DEFAULT 0,
        sealed BLOB,
        partner_sealed BLOB,
        domain_key BLOB,
        held INTEGER NOT NULL DEFAULT 0,
        invalid INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO signatures_received (id, campaign, email_key, first_name, last_name, email,
        country, postal_code, opt_in, partner, signed_at, partner_opt_in, sealed,
        partner_sealed, domain_key, held, invalid)
    SELECT id, campaign, email_key, first_name, last_name, email, country, postal_code,
        opt_in, partner, signed_at, partner_opt_in, sealed, partner_sealed, domain_key, held,
        invalid
    FROM signatures;
    DROP TABLE signatures;
    ALTER TABLE signatures_received RENAME TO signatures;
    CREATE INDEX signatures_campaign_time ON signatures (campaign, signed_at);
    CREATE INDEX signatures_campaign_id ON signatures (campaign, id);
    CREATE INDEX signatures_email_key ON signatures (email_key);
    CREATE INDEX signatures_campaign_signer ON signatures (campaign, email_key, id);
    """,
    # One gateway for both backends: counts in count rows (one shard here, as commits take
    # turns anyway) and one revision row that every save of a campaign or partner bumps.
    """
    CREATE TABLE campaign_counts (
        campaign TEXT NOT NULL REFERENCES campaigns(slug),
        shard INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (campaign, shard)
    );
    INSERT INTO campaign_counts (campaign, shard, n) SELECT slug, 0, signature_count FROM campaigns;
    ALTER TABLE campaigns DROP COLUMN signature_count;
    CREATE TABLE store_revision (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
    INSERT INTO store_revision (id, n)
    VALUES (1, (SELECT coalesce(max(revision), 0) FROM campaigns));
    """,
    # Operators' sessions, kept here so that logging out, removing an operator or changing a
    # password ends them at once, on every instance. The id is a hash of the cookie's token:
    # a copy of the database opens no session.
    """
    CREATE TABLE admin_sessions (
        id TEXT PRIMARY KEY,
        operator TEXT NOT NULL,
        client TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        verified_at TEXT NOT NULL
    );
    CREATE INDEX admin_sessions_operator ON admin_sessions (operator);
    """,
    # Operators' passkeys (public keys only) and the hashes of their one-time recovery codes.
    """
    CREATE TABLE operator_passkeys (
        credential_id TEXT PRIMARY KEY,
        operator TEXT NOT NULL,
        public_key BLOB NOT NULL,
        sign_count INTEGER NOT NULL,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_used TEXT
    );
    CREATE INDEX operator_passkeys_operator ON operator_passkeys (operator);
    CREATE TABLE recovery_codes (
        code_hash TEXT PRIMARY KEY,
        operator TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX recovery_codes_operator ON recovery_codes (operator);
    """,
    # The keyed hash of each signature's withdrawal code: its signer, and only its signer,
    # can remove it at /c/{slug}/withdraw.
    """
    ALTER TABLE signatures ADD COLUMN withdraw_key BLOB;
    CREATE INDEX signatures_withdraw_key ON signatures (withdraw_key)
    WHERE withdraw_key IS NOT NULL;
    """,
    # Signatures awaiting confirmation by email: stored, not counted until the link's button
    # is pressed; only a keyed hash of the link's token is kept.
    """
    ALTER TABLE signatures ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE signatures ADD COLUMN confirm_key BLOB;
    CREATE INDEX signatures_confirm_key ON signatures (confirm_key)
    WHERE confirm_key IS NOT NULL;
    CREATE INDEX signatures_pending ON signatures (signed_at) WHERE pending;
    """,
    # Every signature went into an index on the address alone, used only when an operator
    # deletes a signer from every campaign; that goes through (campaign, email_key) now.
    """
    DROP INDEX signatures_email_key;
    """,
    # A check value of each key the stored hashes are made with (widget/keychecks.py), so
    # that a start with another key, or with the keys folder lost, is refused rather than
    # silently finding none of them again.
    """
    CREATE TABLE key_checks (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    # The count readers see of a campaign whose count is published in steps (count_every_hours):
    # the count at the start of the current step, taken once by whichever instance asks first,
    # so that every instance shows the same number.
    """
    CREATE TABLE published_counts (
        campaign TEXT PRIMARY KEY REFERENCES campaigns(slug),
        step INTEGER NOT NULL,
        n INTEGER NOT NULL
    );
    """,
    # The hour a partner's current key was set: its export link gives only rows signed since
    # ('' for a key set before this was kept: every row, as before).
    """
    ALTER TABLE partners ADD COLUMN key_since TEXT NOT NULL DEFAULT '';
    """,
)
