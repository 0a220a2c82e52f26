-- 0013 an audit event names the practitioner record of a practitioner's token (its practitioner_id
-- claim), so that the trail and a patient's access log say which person acted, not only a token
-- subject. No foreign key: a claim is the identity provider's word, and an audit event must never fail
-- to be written because of it.
ALTER TABLE audit_event ADD COLUMN actor_practitioner_id INTEGER NULL;
