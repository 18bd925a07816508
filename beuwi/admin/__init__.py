"""The admin app (CSV uploads, activation, rollback): a separate Flask app from the read-only engine."""
