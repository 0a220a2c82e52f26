-- 0003 audit events carry a detail: for cohort queries and exports, the filters they were run with.
ALTER TABLE dbo.audit_event ADD detail NVARCHAR(2000) NULL;
