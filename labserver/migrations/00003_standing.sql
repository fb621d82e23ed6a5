-- Version 3: where each sample stands against the alert rules of its last run on its
-- final figures, as its bench works it out when it pushes the tally (History, the
-- sample's report and its counts CSV say the same). The weekly report gave the highest
-- level raised while counting instead: a relabel's WATCH was missed, one run's ALERT of
-- two kept, and a sample no rule applied to read "all below trigger levels".
-- NULL final_level: the bench did not work it out (an older bench, or its pack or rules
-- not at hand); the report then says so.

-- +goose Up
ALTER TABLE samples ADD COLUMN final_rules text;
ALTER TABLE samples ADD COLUMN final_level text;
ALTER TABLE samples ADD COLUMN final_rule text;
ALTER TABLE samples ADD COLUMN final_per_l double precision;
ALTER TABLE samples ADD COLUMN final_why text;

-- +goose Down
ALTER TABLE samples DROP COLUMN final_why;
ALTER TABLE samples DROP COLUMN final_per_l;
ALTER TABLE samples DROP COLUMN final_rule;
ALTER TABLE samples DROP COLUMN final_level;
ALTER TABLE samples DROP COLUMN final_rules;
