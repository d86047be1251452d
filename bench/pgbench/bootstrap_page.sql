-- A bootstrap page that is not the first (GET /api/v1/bootstrap/rows?after=...&limit=...): the
-- caller, the district's cursor, a page of its accounts by number and their communities, each
-- written as JSON by the database (hallserver/json_sql.py), and whether another page follows.
-- Variables: token_hash, district, first_number (the district's first account number less
-- one, as an integer: numbers are consecutive), pages, rows (accounts a page).
\set after :first_number + random(0, :pages - 1) * :rows
\set last :after + :rows
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

SELECT convert_to('[' || coalesce(string_agg((page.row)::text, ',' ORDER BY page.number), '')
                  || ']', 'UTF8'),
       count(*), max(page.number),
       sum(CASE WHEN page.id_type NOT IN ('foreign_permanent_resident', 'passport',
                                          'residence_permit_hmt', 'resident_id',
                                          'travel_permit_hkmo', 'travel_permit_tw')
           THEN 1 ELSE 0 END),
       sum(CASE WHEN page.status NOT IN ('active', 'closed', 'pending_connection', 'suspended')
           THEN 1 ELSE 0 END),
       sum(CASE WHEN page.sms_language NOT IN ('en', 'zh') THEN 1 ELSE 0 END)
FROM (SELECT accounts.number, accounts.id_type, accounts.status, accounts.sms_language,
             json_build_array(accounts.number, accounts.holder_name, accounts.id_type,
                              accounts.id_number, accounts.phone, accounts.supply_address,
                              accounts.mailing_address, accounts.status, accounts.version,
                              accounts.district, accounts.arrears_fen, accounts.sms_consent,
                              accounts.sms_language, accounts.id_valid_until,
                              accounts.community_code, accounts.seq) AS row
      FROM accounts
      WHERE accounts.district = :district AND accounts.number > :after
      ORDER BY accounts.number LIMIT :rows) AS page;

SELECT convert_to('[' || coalesce(string_agg((json_build_array(
           communities.code, communities.name, communities.households,
           communities.manager_name, communities.manager_phone))::text, ','
           ORDER BY communities.code), '') || ']', 'UTF8')
FROM communities
WHERE communities.code IN (SELECT accounts.community_code FROM accounts
                           WHERE accounts.district = :district AND accounts.number > :after
                           ORDER BY accounts.number LIMIT :rows);

SELECT accounts.number FROM accounts
WHERE accounts.district = :district AND accounts.number > :last
ORDER BY accounts.number LIMIT 1;
