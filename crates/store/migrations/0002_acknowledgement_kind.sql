-- How an acknowledgement arrived: `enterprise` (the enterprise itself, on its page or through
-- the API) or `phone` (received by the office by telephone and recorded by an office user, who
-- names the caller and why in the note).
ALTER TABLE notices ADD COLUMN acknowledged_via TEXT;
ALTER TABLE notices ADD COLUMN acknowledgement_note TEXT;
