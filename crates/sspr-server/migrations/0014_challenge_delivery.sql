-- Codes by text message and by call are sent after the challenge answers: where the
-- sending stands (sending, sent, failed), for the kiosk to follow. NULL for challenges
-- that send nothing, and for emailed codes (sent before the challenge answers).
ALTER TABLE challenges ADD COLUMN delivery TEXT;
