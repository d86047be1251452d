-- A bootstrap page that is not the first (GET /api/v1/bootstrap/rows?after=...&limit=...): the
-- caller, the district's cursor, a page of its accounts by number and their communities.
-- Variables: token_hash, district, first_number (the district's first account number less
-- one, as an integer: numbers are consecutive), pages, rows (accounts a page), codes.
\set after :first_number + random(0, :pages - 1) * :rows
\set page_limit :rows + 1
SELECT tokens.token_hash, tokens.kind, tokens.clerk, tokens.hall_id, tokens.terminal_id,
       tokens.expires_at, tokens.revoked, clerks.login, clerks.name, clerks.hall_id AS hall_id_1,
       clerks.role, clerks.password_hash, clerks.active, clerks.must_change_password,
       clerks.password_expires_at, halls.id, halls.name AS name_1, halls.district,
       halls.service_phone, halls.offline_window_hours, halls.opens_at, halls.closes_at,
       EXISTS (SELECT * FROM terminal_keys WHERE terminal_keys.hall_id = tokens.hall_id
               AND terminal_keys.terminal_id = tokens.terminal_id
               AND terminal_keys.state = 'active') AS terminal_active
FROM tokens JOIN clerks ON clerks.login = tokens.clerk JOIN halls ON halls.id = tokens.hall_id
WHERE tokens.token_hash = :token_hash AND tokens.kind = 'access';

SELECT districts.last_seq FROM districts WHERE districts.code = :district;

SELECT accounts.number, accounts.holder_name, accounts.id_type, accounts.id_number,
       accounts.phone, accounts.supply_address, accounts.mailing_address, accounts.status,
       accounts.version, accounts.district, accounts.arrears_fen, accounts.sms_consent,
       accounts.sms_language, accounts.id_valid_until, accounts.community_code, accounts.seq
FROM accounts
WHERE accounts.district = :district AND accounts.number > :after
ORDER BY accounts.number LIMIT :page_limit;

SELECT communities.code, communities.name, communities.households, communities.manager_name,
       communities.manager_phone
FROM communities WHERE communities.code = ANY (:codes);
