-- The number a supplier's receipt shows: random, so that it says nothing of how many bids the
-- platform holds (the bid's id is a counter over every tender).
ALTER TABLE bids ADD COLUMN receipt TEXT NOT NULL DEFAULT '';
UPDATE bids SET receipt = upper(substr(md5(random()::text || id::text), 1, 10));
