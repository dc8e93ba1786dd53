-- MHS32 ... MHS61a (measures.md "Activity (one month)"), per group g. A care contact dated in
-- a month whose submission lacks its referral (or with no referral) counts nowhere.
WITH p AS (SELECT * FROM params),
accepted AS (
    SELECT c.cid, c.sid, c.day, c.attend, r.g FROM contacts c JOIN ref r ON r.sid = c.sid
    WHERE in_sub(r.received, r.disch, c.day)
),
mc AS (SELECT a.* FROM accepted a, p WHERE a.day BETWEEN p.m_start AND p.m_end),
first_attended AS (SELECT sid, MIN(day) AS day FROM accepted WHERE attend IN ('5', '6') GROUP BY sid)
SELECT g, 'MHS32' AS id, COUNT(DISTINCT sid) AS v FROM ref, p
    WHERE received BETWEEN p.m_start AND p.m_end GROUP BY g
UNION ALL SELECT g, 'MHS32a', COUNT(DISTINCT sid) FROM ref, p
    WHERE received BETWEEN p.m_start AND p.m_end AND age_ref BETWEEN 0 AND 18 GROUP BY g
UNION ALL SELECT g, 'MHS29', COUNT(DISTINCT cid) FROM mc GROUP BY g
UNION ALL SELECT g, 'MHS30', COUNT(DISTINCT cid) FROM mc WHERE attend IN ('5', '6') GROUP BY g
UNION ALL SELECT g, 'MHS58', COUNT(DISTINCT cid) FROM mc WHERE attend IN ('2', '3', '4', '7') GROUP BY g
UNION ALL SELECT g, 'MHS57a', COUNT(DISTINCT pid) FROM ref, p
    WHERE disch BETWEEN p.m_start AND p.m_end AND age_ref BETWEEN 0 AND 18 GROUP BY g
UNION ALL SELECT g, 'MHS01', COUNT(DISTINCT pid) FROM ref, p
    WHERE received <= p.m_end AND (disch IS NULL OR disch > p.m_end) GROUP BY g
UNION ALL SELECT g, 'MHS23', COUNT(DISTINCT sid) FROM ref, p
    WHERE received <= p.m_end AND (disch IS NULL OR disch > p.m_end) GROUP BY g
UNION ALL SELECT r.g, 'MHS61a', COUNT(DISTINCT r.sid) FROM ref r JOIN first_attended f ON f.sid = r.sid, p
    WHERE r.age_ref BETWEEN 0 AND 18 AND r.received >= DATE '2016-01-01'
      AND r.received <= p.m_end AND (r.disch IS NULL OR r.disch >= p.m_start)
      AND f.day BETWEEN p.m_start AND p.m_end
    GROUP BY r.g
