-- An empty pull (GET /api/v1/changes after the district's cursor) as PostgreSQL sees it: the
-- caller is known from the server's memory (hallserver/auth_cache.py), and one statement reads
-- the district's cursors and the terminal's facts (hallserver/glance.py), in autocommit mode.
-- The statement HallServer sends (SQLAlchemy's text, constants inlined); variables from
-- bench/http_load.py: hall_id, terminal_id.
SELECT halls.offline_window_hours, halls.opens_at, halls.closes_at, terminals.last_receipt_no,
       terminals.window_extended_until, terminals.window_extension_hours,
       database_identity.identity, districts.last_seq, districts.last_claim_seq
FROM halls LEFT OUTER JOIN terminals ON terminals.hall_id = halls.id
                                     AND terminals.terminal_id = :terminal_id
           LEFT OUTER JOIN database_identity ON database_identity.id = 1
           JOIN districts ON districts.code = halls.district
WHERE halls.id = :hall_id;
