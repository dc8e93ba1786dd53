-- A second implementation of shared/spec/waits.md, written from the specification in DuckDB SQL.
-- It rebuilds every monthly submission literally (one row per referral and month), unlike recon's
-- polars code. Parameters are substituted by tests/oracle/waits_sql.py: {M} month index of M,
-- {M_END}, {Q_START}, {CRISIS}, {EXCLUDED_PROVIDER} (true/false), {DIGITAL} (true/false),
-- {DISTINCT_ROWS}, {R2} (true in R2 and R3), {CMH_EXCLUDED}.

CREATE OR REPLACE MACRO midx(d) AS year(d) * 12 + month(d) - 1;
CREATE OR REPLACE MACRO mend(i) AS last_day(make_date(CAST(i // 12 AS BIGINT), CAST(i % 12 + 1 AS BIGINT), 1));
CREATE OR REPLACE MACRO blank(x) AS nullif(trim(CAST(x AS VARCHAR)), '');
CREATE OR REPLACE MACRO c2(x) AS lpad(blank(x), CAST(greatest(2, length(blank(x))) AS INTEGER), '0');
CREATE OR REPLACE MACRO c1(x) AS CASE WHEN length(blank(x)) > 1 AND blank(x)[1] = '0' THEN ltrim(blank(x), '0') ELSE blank(x) END;
CREATE OR REPLACE MACRO age_on(b, d) AS CASE WHEN b IS NULL OR d IS NULL OR b > d THEN NULL
    ELSE year(d) - year(b) - CASE WHEN month(d) < month(b) OR (month(d) = month(b) AND day(d) < day(b)) THEN 1 ELSE 0 END END;
CREATE OR REPLACE MACRO asat(d, i) AS CASE WHEN midx(d) <= i THEN d END;
CREATE OR REPLACE MACRO blank_concept(x) AS nullif(split_part(x, ':', 1), '');
CREATE OR REPLACE MACRO spark_long(x) AS CASE WHEN length(nullif(regexp_extract(trim(x), '^\+?0*([0-9]+)(\.[0-9]*)?$', 1), '')) <= 19
    THEN nullif(regexp_extract(trim(x), '^\+?0*([0-9]+)(\.[0-9]*)?$', 1), '') END;
CREATE OR REPLACE MACRO spark_pct(v, p) AS CASE WHEN len(v) = 0 THEN NULL
    WHEN floor(CAST(len(v) - 1 AS DOUBLE) * p) = ceil(CAST(len(v) - 1 AS DOUBLE) * p)
      OR v[CAST(floor(CAST(len(v) - 1 AS DOUBLE) * p) AS BIGINT) + 1] = v[CAST(ceil(CAST(len(v) - 1 AS DOUBLE) * p) AS BIGINT) + 1]
    THEN CAST(v[CAST(floor(CAST(len(v) - 1 AS DOUBLE) * p) AS BIGINT) + 1] AS DOUBLE)
    ELSE (ceil(CAST(len(v) - 1 AS DOUBLE) * p) - CAST(len(v) - 1 AS DOUBLE) * p) * CAST(v[CAST(floor(CAST(len(v) - 1 AS DOUBLE) * p) AS BIGINT) + 1] AS DOUBLE)
       + (CAST(len(v) - 1 AS DOUBLE) * p - floor(CAST(len(v) - 1 AS DOUBLE) * p)) * CAST(v[CAST(ceil(CAST(len(v) - 1 AS DOUBLE) * p) AS BIGINT) + 1] AS DOUBLE)
    END;

CREATE OR REPLACE TABLE mpi AS
SELECT LocalPatientId AS pid, PersonBirthDate AS birth,
       (blank(LADistrictAuth) IS NULL OR starts_with(blank(LADistrictAuth), 'E')) AS england
FROM (SELECT *, row_number() OVER (PARTITION BY LocalPatientId ORDER BY rn) AS k FROM t_mpi WHERE LocalPatientId IS NOT NULL)
WHERE k = 1;

CREATE OR REPLACE TABLE ref AS
SELECT r.ServiceRequestId AS sid, r.LocalPatientId AS pid, m.birth, coalesce(m.england, false) AS england,
       m.pid IS NOT NULL AS has_mpi, r.ReferralRequestReceivedDate AS recv, r.ServDischDate AS disch,
       r.ReferRejectionDate AS rej, blank(r.ReferClosReason) AS clos_reason, blank(r.ReferRejectReason) AS rej_reason,
       c1(r.ClinRespPriorityType) AS priority, c2(r.PrimReasonReferralMH) AS reason,
       blank(r.ServTeamType) AS team_type, blank(r.UniqCareProfTeamLocalID) AS team_id,
       midx(r.ReferralRequestReceivedDate) AS f,
       CASE WHEN r.ServDischDate <= DATE '{M_END}' THEN midx(r.ServDischDate) ELSE {M} END AS l,
       age_on(m.birth, r.ReferralRequestReceivedDate) AS age,
       EXISTS (SELECT 1 FROM t_hosp h WHERE h.ServiceRequestId = r.ServiceRequestId) AS hosp
FROM (SELECT *, row_number() OVER (PARTITION BY ServiceRequestId ORDER BY rn) AS k FROM t_ref WHERE ServiceRequestId IS NOT NULL) r
LEFT JOIN mpi m ON m.pid = r.LocalPatientId
WHERE r.k = 1 AND r.ReferralRequestReceivedDate IS NOT NULL AND r.ReferralRequestReceivedDate <= DATE '{M_END}'
  AND (r.ServDischDate IS NULL OR r.ServDischDate >= date_trunc('month', r.ReferralRequestReceivedDate));

-- 3.1: one row per referral and submission month
CREATE OR REPLACE TABLE sub AS
SELECT ref.*, g.m FROM ref, LATERAL (SELECT unnest(range(ref.f, ref.l + 1)) AS m) g;

CREATE OR REPLACE TABLE other AS
SELECT ServiceRequestId AS sid, blank(ServTeamTypeRefToMH) AS ttype, blank(UniqOtherCareProfTeamLocalID) AS tid,
       ReferClosureDate AS clos, blank(ReferClosReason) AS cr, ReferRejectionDate AS rej, blank(ReferRejectReason) AS rr
FROM (SELECT *, row_number() OVER (PARTITION BY ServiceRequestId, UniqOtherCareProfTeamLocalID ORDER BY rn) AS k FROM t_other)
WHERE k = 1;

-- 3.3: team rows of each referral month, dates and reasons as at the month
CREATE OR REPLACE TABLE trow AS
WITH raw AS (
  SELECT s.sid, s.m, 'own' AS kind, s.team_type AS ttype, s.team_id AS tid, s.disch AS clos, s.clos_reason AS cr,
         s.rej, s.rej_reason AS rr
  FROM sub s WHERE s.m >= 2024 * 12 + 3 OR s.team_type IS NOT NULL OR s.team_id IS NOT NULL
  UNION ALL
  SELECT s.sid, s.m, 'other', o.ttype, o.tid, o.clos, o.cr, o.rej, o.rr FROM sub s JOIN other o ON o.sid = s.sid
), withblank AS (
  SELECT * FROM raw
  UNION ALL
  SELECT s.sid, s.m, 'blank', NULL, NULL, NULL, NULL, NULL, NULL FROM sub s
  WHERE NOT EXISTS (SELECT 1 FROM raw WHERE raw.sid = s.sid AND raw.m = s.m)
)
SELECT w.sid, w.m, w.kind, w.ttype, w.tid, s.priority, s.reason,
       asat(w.clos, w.m) AS clos_m, CASE WHEN asat(w.clos, w.m) IS NOT NULL THEN w.cr END AS cr_m,
       asat(w.rej, w.m) AS rej_m, CASE WHEN asat(w.rej, w.m) IS NOT NULL THEN w.rr END AS rr_m,
       asat(s.disch, w.m) AS disch_m, mend(w.m) AS m_end
FROM withblank w JOIN sub s ON s.sid = w.sid AND s.m = w.m;

CREATE OR REPLACE TABLE trow_scope AS
SELECT t.*,
  coalesce(ttype IN ('A05','A06','A08','A09','A12','A13','A16','C03','C10'), false) AS cmh_ok,
  NOT (
      coalesce(ttype = 'A18' AND priority IN ('1','2','4'), false)
   OR coalesce(reason = '12' AND (ttype IS NULL OR ttype NOT IN ('A18','F01')), false)
   OR coalesce(reason = '01' AND ttype = 'A14', false)
   OR coalesce(ttype IN ({CRISIS}), false)
   OR coalesce(ttype IN ('E02','E03','E04'), false)
  ) AS cyp_ok,
  CASE WHEN {R2} THEN coalesce(disch_m, rej_m, clos_m, m_end) ELSE coalesce(disch_m, m_end) END AS row_end
FROM trow t;

-- 4.1-4.3: cohort months
CREATE OR REPLACE TABLE cmonth AS
SELECT s.sid, s.pid, s.m, c.cohort
FROM sub s, (VALUES ('CMH'), ('CYP')) c(cohort)
WHERE s.has_mpi AND s.england AND NOT s.hosp AND NOT {EXCLUDED_PROVIDER}
  AND CASE c.cohort WHEN 'CMH' THEN s.age >= 18 ELSE s.age BETWEEN 0 AND 17 END
  AND EXISTS (SELECT 1 FROM trow_scope t WHERE t.sid = s.sid AND t.m = s.m
              AND CASE c.cohort WHEN 'CMH' THEN t.cmh_ok ELSE t.cyp_ok END);

-- 4.4: DerEnd from the in-scope rows of the last submission month
CREATE OR REPLACE TABLE cref AS
SELECT r.sid, r.pid, c.cohort, r.recv, r.disch, r.f, r.l,
       (SELECT max(t.row_end) FROM trow_scope t WHERE t.sid = r.sid AND t.m = r.l
          AND CASE c.cohort WHEN 'CMH' THEN t.cmh_ok ELSE t.cyp_ok END) AS der_end
FROM ref r JOIN (SELECT DISTINCT sid, cohort FROM cmonth) c ON c.sid = r.sid;

-- 5: spells by the +1/-1 events
CREATE OR REPLACE TABLE spell AS
WITH ev AS (
  SELECT cohort, pid, recv AS d, 1 AS inc FROM cref
  UNION ALL SELECT cohort, pid, der_end + INTERVAL 5 DAY, -1 FROM cref
), byday AS (SELECT cohort, pid, CAST(d AS DATE) AS d, sum(inc) AS inc FROM ev GROUP BY ALL),
run AS (SELECT *, sum(inc) OVER (PARTITION BY cohort, pid ORDER BY d ROWS UNBOUNDED PRECEDING) AS total FROM byday),
grp AS (SELECT *, coalesce(sum(CASE WHEN total = 0 THEN 1 ELSE 0 END) OVER (PARTITION BY cohort, pid ORDER BY d
          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS g FROM run)
SELECT cohort, pid, min(d) AS start, CAST(max(d) - INTERVAL 5 DAY AS DATE) AS "end"
FROM grp GROUP BY cohort, pid, g
HAVING min(d) >= DATE '2016-01-01';

CREATE OR REPLACE TABLE sp AS
SELECT * FROM spell WHERE start <= DATE '{M_END}' AND "end" >= DATE '{Q_START}';

-- 6: Open
CREATE OR REPLACE TABLE sp_open AS
SELECT s.cohort, s.pid, s.start,
  max(CASE WHEN r.l = {M} AND (asat(r.disch, {M}) IS NULL OR
        datediff('day', CASE WHEN {R2} THEN s."end" ELSE CAST(s."end" + INTERVAL 5 DAY AS DATE) END, DATE '{M_END}') <= 5)
      THEN 1 ELSE 0 END) AS open_
FROM sp s JOIN cref r ON r.cohort = s.cohort AND r.pid = s.pid AND r.recv BETWEEN s.start AND s."end"
GROUP BY ALL;

-- 7: contacts
CREATE OR REPLACE TABLE cc AS
SELECT CareContactId AS cid, ServiceRequestId AS sid, CareContDate AS d, c1(AttendStatus) AS att, c2(ConsMechanismMH) AS mech
FROM (SELECT *, row_number() OVER (PARTITION BY CareContactId ORDER BY rn) AS k FROM t_cc)
WHERE k = 1 AND CareContDate IS NOT NULL;

CREATE OR REPLACE MACRO mech_ok(d, mech) AS CASE WHEN d < DATE '2021-10-01'
    THEN coalesce(mech IS NOT NULL AND mech NOT IN ('05', '06'), false) ELSE coalesce(mech IN ('01','02','04','11'), false) END;

CREATE OR REPLACE TABLE qual AS
SELECT c.cid, c.sid, c.d, cm.cohort, cm.pid, midx(c.d) AS m
FROM cc c JOIN cmonth cm ON cm.sid = c.sid AND cm.m = midx(c.d)
WHERE c.att IN ('5', '6') AND mech_ok(c.d, c.mech);

CREATE OR REPLACE TABLE ind AS
SELECT i.ServiceRequestId AS sid, i.IndirectActDate AS d, cm.cohort, cm.pid, blank_concept(i.IndActProcedure) AS concept
FROM t_ind i JOIN cmonth cm ON cm.sid = i.ServiceRequestId AND cm.m = midx(i.IndirectActDate)
WHERE i.IndirectActDate IS NOT NULL;

CREATE OR REPLACE TABLE cyp_first AS
SELECT s.cohort, s.pid, s.start, min(a.d) AS first_contact
FROM sp s JOIN (SELECT cohort, pid, d FROM qual UNION ALL SELECT cohort, pid, d FROM ind) a
  ON a.cohort = s.cohort AND a.pid = s.pid AND a.d BETWEEN s.start AND s."end"
WHERE s.cohort = 'CYP' GROUP BY ALL;

-- 7.3: one entry per row of the referral's cohort month
CREATE OR REPLACE TABLE cmh_entries AS
SELECT s.start, s.pid, q.d, q.cid, t.ttype, t.tid, t.row_end, t.cr_m, t.rej_m, t.rr_m
FROM sp s JOIN qual q ON q.cohort = 'CMH' AND s.cohort = 'CMH' AND q.pid = s.pid AND q.d BETWEEN s.start AND s."end"
JOIN trow_scope t ON t.sid = q.sid AND t.m = q.m AND t.cmh_ok;

CREATE OR REPLACE TABLE cmh_first AS
WITH e AS (
  SELECT start, pid, d FROM cmh_entries WHERE NOT {DISTINCT_ROWS}
  UNION ALL
  SELECT start, pid, d FROM (
    SELECT DISTINCT start, pid, d, cid, CASE WHEN ttype = 'C03' THEN 'C10' ELSE ttype END, tid, row_end, cr_m, rej_m, rr_m
    FROM cmh_entries) WHERE {DISTINCT_ROWS}
), ranked AS (SELECT *, row_number() OVER (PARTITION BY start, pid ORDER BY d) AS n FROM e)
SELECT 'CMH' AS cohort, pid, start, min(d) FILTER (WHERE n = 1) AS first_contact, min(d) FILTER (WHERE n = 2) AS second_contact
FROM ranked GROUP BY ALL;

-- 8: events
CREATE OR REPLACE TABLE ev AS
-- MHS606: submitted in its month moved into the referral's months
SELECT cm.cohort, cm.pid, CAST(a.AssToolCompTimestamp AS DATE) AS d, 'base' AS cat
FROM t_606 a JOIN ref r ON r.sid = a.ServiceRequestId
JOIN cmonth cm ON cm.sid = r.sid AND cm.m = least(greatest(midx(CAST(a.AssToolCompTimestamp AS DATE)), r.f), r.l)
WHERE CAST(a.AssToolCompTimestamp AS DATE) <= DATE '{M_END}' AND spark_long(a.CodedAssToolType) IN (SELECT code FROM tools)
UNION ALL
SELECT cm.cohort, cm.pid, c.d, 'base'
FROM t_607 a LEFT JOIN (SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY CareActId ORDER BY rn) k FROM t_202) WHERE k = 1) v
  ON v.CareActId = a.CareActId
JOIN cc c ON c.cid = coalesce(a.CareContactId, v.CareContactId)
JOIN cmonth cm ON cm.sid = c.sid AND cm.m = midx(c.d)
WHERE spark_long(a.CodedAssToolType) IN (SELECT code FROM tools)
UNION ALL
SELECT cm.cohort, cm.pid, c.d, 'snomed:' || blank_concept(p.Procedure)
FROM (SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY CareActId ORDER BY rn) k FROM t_202) WHERE k = 1) p
JOIN cc c ON c.cid = p.CareContactId
JOIN cmonth cm ON cm.sid = c.sid AND cm.m = midx(c.d)
WHERE blank_concept(p.Procedure) IS NOT NULL
UNION ALL
SELECT cohort, pid, d, 'snomed:' || concept FROM ind WHERE concept IS NOT NULL;

-- membership (R1: any active row; R2+: windows)
CREATE OR REPLACE TABLE member AS
WITH rows_ AS (SELECT DISTINCT referencedComponentId AS c, refsetId AS rs, effectiveTime AS t, active FROM t_refset),
ordered AS (SELECT *, lead(t) OVER (PARTITION BY c ORDER BY t, active, rs) AS nxt FROM rows_),
win AS (SELECT c, rs, max(coalesce(nxt, DATE '{M_END}')) AS hi FROM ordered WHERE active = 1 GROUP BY c, rs),
cs AS (SELECT id AS c, min(effectiveTime) AS lo FROM t_concept GROUP BY id)
SELECT w.c, w.rs, cs.lo, w.hi FROM win w JOIN cs ON cs.c = w.c WHERE {R2}
UNION ALL
SELECT DISTINCT c, rs, DATE '0001-01-01', DATE '9999-12-31' FROM rows_ WHERE active = 1 AND NOT {R2};

CREATE OR REPLACE TABLE ev_cat AS
SELECT cohort, pid, d, 'base' AS cat FROM ev WHERE cat = 'base'
UNION ALL
SELECT e.cohort, e.pid, e.d,
  CASE WHEN mb.rs = '1853441000000109' THEN
         CASE WHEN e.cohort = 'CMH' THEN 'ma' WHEN mb.c IN ('1085671000000109', '1914891000000100') THEN 'cpi' END
       ELSE 'cpi' END
FROM ev e JOIN member mb ON 'snomed:' || mb.c = e.cat AND e.d BETWEEN mb.lo AND mb.hi
WHERE NOT (e.cohort = 'CMH' AND mb.c IN ({CMH_EXCLUDED}));

-- care plans (3.5, 8)
CREATE OR REPLACE TABLE plan_ev AS
WITH p_last AS (SELECT pid, max(l) AS p FROM ref GROUP BY pid),
plans AS (SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY CarePlanID ORDER BY rn) k FROM t_008) WHERE k = 1),
ok AS (
  SELECT pl.CarePlanID, pl.LocalPatientId AS pid, pl.CarePlanCreatDate AS c, pl.CarePlanLastUpdateDate AS u
  FROM plans pl JOIN p_last ON p_last.pid = pl.LocalPatientId
  WHERE pl.CarePlanLastUpdateDate IS NOT NULL
    AND pl.CarePlanLastUpdateDate <= mend(p_last.p)
    AND (pl.CarePlanCreatDate IS NULL OR pl.CarePlanCreatDate <= mend(p_last.p))
    AND EXISTS (SELECT 1 FROM t_009 a WHERE a.CarePlanID = pl.CarePlanID
                AND (a.CarePlanAgreedDate IS NULL OR a.CarePlanAgreedDate <= mend(p_last.p)))
)
SELECT s.cohort, s.pid, s.start, CASE WHEN ok.c IS NOT NULL AND ok.c >= s.start AND ok.c <= ok.u THEN ok.c ELSE ok.u END AS d
FROM sp s JOIN ok ON ok.pid = s.pid AND ok.u BETWEEN s.start AND s."end";

CREATE OR REPLACE TABLE firsts AS
SELECT s.cohort, s.pid, s.start,
  min(e.d) FILTER (WHERE e.cat = 'base') AS base,
  min(e.d) FILTER (WHERE e.cat = 'ma') AS ma,
  min(e.d) FILTER (WHERE e.cat = 'cpi') AS cpi
FROM sp s JOIN (SELECT cohort, pid, d, cat FROM ev_cat WHERE {SNOMED} OR cat = 'base'
                UNION ALL SELECT cohort, pid, d, 'cpi' FROM plan_ev) e
  ON e.cohort = s.cohort AND e.pid = s.pid AND e.d BETWEEN s.start AND s."end"
GROUP BY ALL;

CREATE OR REPLACE TABLE per_spell AS
SELECT s.cohort, s.pid, s.start, s."end", o.open_,
  (s."end" BETWEEN DATE '{M_END}' - INTERVAL 5 DAY AND DATE '{M_END}' AND o.open_ = 1) IS TRUE AS is_open,
  (s."end" BETWEEN DATE '{Q_START}' AND DATE '{M_END}' AND o.open_ = 0) IS TRUE AS is_closed,
  s.start BETWEEN DATE '{Q_START}' AND DATE '{M_END}' AS is_started,
  datediff('day', s.start, DATE '{M_END}') AS w,
  coalesce(cf.first_contact, mf.first_contact) AS first_contact, mf.second_contact,
  f.base, f.ma, f.cpi
FROM sp s LEFT JOIN sp_open o USING (cohort, pid, start)
LEFT JOIN cyp_first cf ON cf.cohort = s.cohort AND cf.pid = s.pid AND cf.start = s.start
LEFT JOIN cmh_first mf ON mf.cohort = s.cohort AND mf.pid = s.pid AND mf.start = s.start
LEFT JOIN firsts f ON f.cohort = s.cohort AND f.pid = s.pid AND f.start = s.start;

CREATE OR REPLACE TABLE stops AS
SELECT *,
  CASE WHEN NOT {SNOMED} THEN NULL
       WHEN first_contact IS NULL OR base IS NULL OR cpi IS NULL THEN NULL
       WHEN cohort = 'CMH' AND (start >= DATE '2024-04-01' OR first_contact >= DATE '2024-04-01')
         THEN CASE WHEN ma IS NULL THEN NULL ELSE greatest(first_contact, base, cpi, ma) END
       ELSE greatest(first_contact, base, cpi) END AS stop
FROM per_spell;

-- 11: MHS130-MHS135
CREATE OR REPLACE TABLE fc AS
WITH coh AS (SELECT * FROM ref WHERE has_mpi AND england AND recv >= DATE '2019-04-01' AND age BETWEEN 0 AND 17),
q AS (
  SELECT c.sid, min(c.d) AS first_contact
  FROM cc c JOIN coh r ON r.sid = c.sid
  WHERE midx(c.d) BETWEEN r.f AND r.l AND age_on(r.birth, c.d) <= 17
    AND ((c.att IN ('5', '6') AND mech_ok(c.d, c.mech))
      OR ({DIGITAL} AND CASE WHEN c.d < DATE '2021-10-01' THEN c.mech IN ('05', '06')
                                ELSE c.mech IN ('05', '09', '10', '13') END IS TRUE))
  GROUP BY c.sid
)
SELECT coh.sid, q.first_contact,
  (q.first_contact BETWEEN DATE '{Q_START}' AND DATE '{M_END}') IS TRUE AS in130,
  datediff('day', coh.recv, q.first_contact) AS wait,
  (q.first_contact IS NULL AND coh.l = {M} AND asat(coh.disch, {M}) IS NULL) AS in133,
  datediff('day', coh.recv, DATE '{M_END}') + 1 AS waiting
FROM coh LEFT JOIN q ON q.sid = coh.sid;
