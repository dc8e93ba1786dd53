-- Typed views over the raw text tables (raw_<table id>, every column VARCHAR plus _row, the
-- row's position in its file) and the run's parameters (params: m_start, m_end, w_start,
-- fy_start, digital). Written from ../shared/spec/measures.md and mhsds.md, not from recon.
-- Every figure is reported per group g: the part of ServiceRequestId before ':' (generated
-- extracts are stacked with such prefixes), '' for an ordinary extract.

CREATE OR REPLACE MACRO txt(x) AS NULLIF(TRIM(x), '');
-- dates: YYYY-MM-DD or DD/MM/YYYY, optionally followed by a time
CREATE OR REPLACE MACRO day_of(x) AS COALESCE(
    TRY_CAST(LEFT(TRIM(x), 10) AS DATE),
    CAST(TRY_STRPTIME(LEFT(TRIM(x), 10), '%d/%m/%Y') AS DATE));
-- completed years from b to x
CREATE OR REPLACE MACRO age(b, x) AS
    year(x) - year(b) - CASE WHEN month(x) < month(b) OR (month(x) = month(b) AND day(x) < day(b)) THEN 1 ELSE 0 END;
CREATE OR REPLACE MACRO grp(sid) AS CASE WHEN contains(sid, ':') THEN split_part(sid, ':', 1) ELSE '' END;
-- the referral is in the submission of the month of day x
CREATE OR REPLACE MACRO in_sub(received, disch, x) AS
    received <= last_day(x) AND (disch IS NULL OR disch >= date_trunc('month', x));
-- a one-digit mechanism code written as a number ("1") is the two-character code ("01")
CREATE OR REPLACE MACRO mech(x) AS CASE WHEN regexp_full_match(TRIM(x), '[0-9]') THEN '0' || TRIM(x) ELSE txt(x) END;

CREATE OR REPLACE VIEW people AS
SELECT pid, birth, gender, la FROM (
    SELECT txt(LocalPatientId) AS pid, day_of(PersonBirthDate) AS birth, txt(Gender) AS gender,
           txt(LADistrictAuth) AS la,
           row_number() OVER (PARTITION BY txt(LocalPatientId) ORDER BY _row) AS k
    FROM raw_MHS001MPI WHERE txt(LocalPatientId) IS NOT NULL)
WHERE k = 1;

CREATE OR REPLACE VIEW ref AS
SELECT r.sid, r.pid, r.received, r.disch, r.rejected, r.team_type, r.team,
       p.birth, p.gender, age(p.birth, r.received) AS age_ref, grp(r.sid) AS g,
       (p.la IS NULL OR starts_with(p.la, 'E')) AS england
FROM (
    SELECT txt(ServiceRequestId) AS sid, txt(LocalPatientId) AS pid,
           day_of(ReferralRequestReceivedDate) AS received, day_of(ServDischDate) AS disch,
           day_of(ReferRejectionDate) AS rejected, txt(ServTeamType) AS team_type,
           txt(UniqCareProfTeamLocalID) AS team,
           row_number() OVER (PARTITION BY txt(ServiceRequestId) ORDER BY _row) AS k
    FROM raw_MHS101Referral WHERE txt(ServiceRequestId) IS NOT NULL) r
LEFT JOIN people p ON p.pid = r.pid
WHERE r.k = 1;

-- a care contact id given twice is a duplicate key: the first row in file order stands
CREATE OR REPLACE VIEW contacts AS
SELECT cid, sid, day, attend, mech, _row FROM (
    SELECT txt(CareContactId) AS cid, txt(ServiceRequestId) AS sid, day_of(CareContDate) AS day,
           txt(AttendStatus) AS attend, mech(ConsMechanismMH) AS mech, _row,
           row_number() OVER (PARTITION BY txt(CareContactId) ORDER BY _row) AS k
    FROM raw_MHS201CareContact)
WHERE k = 1;

CREATE OR REPLACE VIEW indirect AS
SELECT txt(ServiceRequestId) AS sid, day_of(IndirectActDate) AS day, txt(IndirectActTime) AS act_time, _row
FROM raw_MHS204IndirectActivity;
