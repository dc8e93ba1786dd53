-- MHS110 and the counts of MHS111-MHS115f (measures.md "Outcomes"), per group g; the
-- percentages are worked out from these counts in oracle.py. Tables tools
-- (assessment_tools.csv) and norms (rcads_norms.csv) are the reference CSVs as text.
WITH p AS (SELECT * FROM params),
disch AS (SELECT r.* FROM ref r, p WHERE r.disch BETWEEN p.m_start AND p.m_end),
team_rows AS (
    SELECT sid, team_type AS t, rejected AS rej FROM disch
    UNION ALL
    SELECT txt(o.ServiceRequestId), txt(o.ServTeamTypeRefToMH), day_of(o.ReferRejectionDate)
    FROM raw_MHS102OtherServiceType o WHERE txt(o.ServiceRequestId) IN (SELECT sid FROM disch)
),
team_ok AS (
    SELECT sid, bool_or((t IS NULL OR t NOT IN ('A14', 'B02', 'E01', 'E02', 'E03', 'E04'))
                        AND (rej IS NULL OR rej > p.m_end)) AS ok
    FROM team_rows, p GROUP BY sid
),
spells AS (SELECT DISTINCT txt(ServiceRequestId) AS sid FROM raw_MHS501HospProvSpell),
qa AS (
    -- qualifying activity for the cohort: attended 01/02/04/11 (digital: also attended
    -- 05/09/10/13); indirect rows once per (referral, date, time)
    SELECT sid, day FROM (
        SELECT DISTINCT ON (cid) cid, sid, day FROM contacts, p
        WHERE attend IN ('5', '6') AND (mech IN ('01', '02', '04', '11') OR (p.digital AND mech IN ('05', '09', '10', '13')))
        ORDER BY cid, _row)
    UNION ALL
    SELECT sid, day FROM (SELECT DISTINCT sid, day, act_time FROM indirect)
),
ranked_acts AS (
    SELECT d.sid, q.day, row_number() OVER (PARTITION BY d.sid ORDER BY q.day) AS rn
    FROM disch d JOIN qa q ON q.sid = d.sid, p
    WHERE q.day <= d.disch AND q.day <= p.m_end AND in_sub(d.received, d.disch, q.day)
),
c12 AS (SELECT sid, MAX(CASE WHEN rn = 1 THEN day END) AS contact1, MAX(CASE WHEN rn = 2 THEN day END) AS contact2
        FROM ranked_acts GROUP BY sid),
cohort AS (
    SELECT d.*, c.contact1, c.contact2,
           CASE d.gender WHEN '1' THEN 'M' WHEN '2' THEN 'F' END AS sex
    FROM disch d JOIN c12 c ON c.sid = d.sid JOIN team_ok t ON t.sid = d.sid
    WHERE d.age_ref BETWEEN 0 AND 17 AND d.received >= DATE '2016-01-01'
      AND d.sid NOT IN (SELECT sid FROM spells WHERE sid IS NOT NULL)
      AND d.england AND t.ok AND c.contact2 IS NOT NULL
),
rows_ AS (
    SELECT txt(ServiceRequestId) AS sid, txt(CodedAssToolType) AS code, day_of(AssToolCompTimestamp) AS day,
           PersScore AS score_text, 0 AS src, _row
    FROM raw_MHS606CodedScoreAssessmentRefer
    UNION ALL
    SELECT c.sid, txt(a.CodedAssToolType), c.day, a.PersScore, 1, a._row
    FROM raw_MHS607CodedScoreAssessmentAct a
    JOIN (SELECT DISTINCT ON (cid) cid, sid, day FROM contacts ORDER BY cid, _row) c ON c.cid = txt(a.CareContactId)
),
parsed AS (
    SELECT r.*, t.item, t.rater, t.polarity, CAST(t.reliable_change_threshold AS FLOAT) AS threshold,
           CAST(t.min_score AS DOUBLE) AS lo, CAST(t.max_score AS DOUBLE) AS hi,
           CASE WHEN regexp_full_match(r.score_text, '\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*')
                THEN TRY_CAST(regexp_replace(r.score_text, '^\s+|\s+$', '', 'g') AS FLOAT) END AS raw
    FROM rows_ r JOIN tools t ON t.snomed_code = r.code
    WHERE t.cyp_outcomes = 'Y'
),
valid AS (
    SELECT v.*, c.contact1, c.contact2, c.sex, c.age_ref, c.g
    FROM parsed v JOIN cohort c ON c.sid = v.sid, p
    WHERE v.raw IS NOT NULL AND isfinite(v.raw) AND CAST(v.raw AS DOUBLE) BETWEEN v.lo AND v.hi
      AND v.day <= c.disch AND v.day <= p.m_end
),
once AS (
    -- identical rows (referral, item, date, score as written) count once
    SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY sid, item, day, score_text ORDER BY src, _row) AS k FROM valid)
    WHERE k = 1
),
scored AS (
    SELECT o.*, CASE WHEN n.mean IS NOT NULL
                     THEN CAST(((CAST(o.raw AS DOUBLE) - CAST(n.mean AS DOUBLE)) / CAST(n.sd AS DOUBLE)) * 10 + 50 AS FLOAT)
                     ELSE o.raw END AS t
    FROM once o LEFT JOIN norms n ON n.subscale_item = o.item AND n.gender = o.sex AND CAST(n.age AS INTEGER) = o.age_ref
),
after1 AS (
    SELECT *, row_number() OVER (PARTITION BY sid, item ORDER BY day, src, _row) AS rn
    FROM scored WHERE day >= contact1
),
last_rn AS (SELECT sid, item, MAX(rn) AS rn FROM after1 WHERE rn > 1 AND day >= contact2 GROUP BY sid, item),
items AS (
    SELECT f.sid, f.g, f.item, f.rater, f.polarity, f.threshold,
           l.t IS NOT NULL AS paired, CAST(l.t - f.t AS FLOAT) AS change
    FROM after1 f
    LEFT JOIN last_rn x ON x.sid = f.sid AND x.item = f.item
    LEFT JOIN after1 l ON l.sid = x.sid AND l.item = x.item AND l.rn = x.rn
    WHERE f.rn = 1
),
judged AS (
    SELECT *,
        paired AND abs(change) >= threshold AND CASE WHEN polarity = 'Positive' THEN change > 0 ELSE change < 0 END AS imp,
        paired AND abs(change) >= threshold AND CASE WHEN polarity = 'Positive' THEN change < 0 ELSE change > 0 END AS det,
        paired AND abs(change) < threshold AS nc
    FROM items
),
per_rater AS (
    SELECT sid, g, rater, TRUE AS assessed, bool_or(paired) AS paired,
           bool_or(imp) AND NOT bool_or(det) AS improved, bool_or(det) AS deteriorated,
           bool_or(nc) AND NOT bool_or(imp) AND NOT bool_or(det) AS no_change
    FROM judged GROUP BY sid, g, rater
),
linked AS (SELECT per_rater.* FROM per_rater, p WHERE NOT p.digital),
counts AS (
    SELECT g, 'MHS111' AS id, COUNT(DISTINCT sid) AS v FROM linked GROUP BY g
    UNION ALL SELECT g, 'MHS112', COUNT(DISTINCT sid) FROM linked WHERE paired GROUP BY g
    UNION ALL SELECT g, 'MHS111' || CASE rater WHEN 'Self' THEN 'b' WHEN 'Parent' THEN 'd' ELSE 'f' END,
                     COUNT(*) FROM linked GROUP BY g, rater
    UNION ALL SELECT g, 'MHS112' || CASE rater WHEN 'Self' THEN 'b' WHEN 'Parent' THEN 'd' ELSE 'f' END,
                     COUNT(*) FROM linked WHERE paired GROUP BY g, rater
    UNION ALL SELECT g, CASE rater WHEN 'Self' THEN 'MHS113' WHEN 'Parent' THEN 'MHS114' ELSE 'MHS115' END || 'a',
                     COUNT(*) FROM linked WHERE improved GROUP BY g, rater
    UNION ALL SELECT g, CASE rater WHEN 'Self' THEN 'MHS113' WHEN 'Parent' THEN 'MHS114' ELSE 'MHS115' END || 'c',
                     COUNT(*) FROM linked WHERE deteriorated GROUP BY g, rater
    UNION ALL SELECT g, CASE rater WHEN 'Self' THEN 'MHS113' WHEN 'Parent' THEN 'MHS114' ELSE 'MHS115' END || 'e',
                     COUNT(*) FROM linked WHERE no_change GROUP BY g, rater
)
SELECT g, 'MHS110' AS id, COUNT(*) AS v FROM cohort GROUP BY g
UNION ALL SELECT g, id, v FROM counts
