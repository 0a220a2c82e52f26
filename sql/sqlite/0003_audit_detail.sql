-- 0003 audit events carry a detail: for cohort queries and exports, the filters they were run with.
ALTER TABLE audit_event ADD COLUMN detail TEXT NULL;
