-- MHS95 and MHS69 (measures.md "Access"), per group g.
WITH p AS (SELECT * FROM params),
acts AS (
    -- care contacts: MHS95's qualifying activity and MHS69's activity; indirect rows: both, every row
    SELECT c.sid, c.day, 'C' AS kind,
           (c.attend IN ('5', '6') AND c.mech IN ('01', '02', '04', '11'))
             OR (p.digital AND c.mech IN ('05', '09', '10', '13')) AS q95,
           c.attend IN ('5', '6') AND CASE WHEN p.digital THEN c.mech IN ('05', '09', '10', '13')
                                           ELSE c.mech IN ('01', '02', '04', '11') END AS q69
    FROM contacts c, p
    UNION ALL
    SELECT i.sid, i.day, 'I', TRUE, TRUE FROM indirect i
),
ra AS (
    -- with their referral, dated up to M.end in a month whose submission holds the referral
    SELECT a.*, r.pid, r.g, r.birth, r.age_ref, r.england
    FROM acts a JOIN ref r ON r.sid = a.sid, p
    WHERE a.day <= p.m_end AND in_sub(r.received, r.disch, a.day)
),
m95 AS (
    SELECT g, COUNT(DISTINCT pid) AS v FROM ra, p
    WHERE q95 AND england AND day >= p.w_start AND age_ref BETWEEN 0 AND 17
      AND age(birth, CASE WHEN kind = 'I' THEN last_day(day) ELSE day END) BETWEEN 0 AND 17
    GROUP BY g
),
a69 AS (
    SELECT sid, day, kind, CASE WHEN kind = 'C' THEN age(birth, day) ELSE age_ref END AS age69
    FROM ra WHERE q69 AND age_ref BETWEEN 0 AND 18
),
rank_a AS (SELECT *, row_number() OVER (PARTITION BY sid ORDER BY day, kind) AS rn FROM a69),
rank_b AS (SELECT a69.*, row_number() OVER (PARTITION BY sid ORDER BY day, kind) AS rn
           FROM a69, p WHERE day >= p.fy_start),
route_a AS (SELECT sid, MAX(CASE WHEN rn = 1 THEN age69 END) AS first_age,
                   MAX(CASE WHEN rn = 2 THEN day END) AS second
            FROM rank_a GROUP BY sid),
route_b AS (SELECT sid, MAX(CASE WHEN rn = 1 THEN age69 END) AS first_age,
                   MAX(CASE WHEN rn = 2 THEN day END) AS second
            FROM rank_b GROUP BY sid),
cand AS (
    SELECT a.sid, a.second AS day FROM route_a a, p WHERE a.first_age < 18 AND a.second >= p.fy_start
    UNION ALL
    SELECT b.sid, b.second FROM route_b b WHERE b.first_age < 18 AND b.second IS NOT NULL
),
person69 AS (SELECT r.g, r.pid, MIN(c.day) AS day FROM cand c JOIN ref r ON r.sid = c.sid GROUP BY r.g, r.pid),
m69 AS (SELECT g, COUNT(*) AS v FROM person69, p WHERE day BETWEEN p.m_start AND p.m_end GROUP BY g)
SELECT g, 'MHS95' AS id, v FROM m95
UNION ALL SELECT g, 'MHS69', v FROM m69
