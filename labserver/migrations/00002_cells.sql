-- Version 2: the cells estimated in each count of a sample's tally, so that the
-- programme's views and weekly report give cells per litre as the bench does (a colony
-- counts by the cells in it) rather than objects per litre under a cells heading.
-- NULL in the rows of tallies pushed before it: those read as objects, as before.

-- +goose Up
ALTER TABLE sample_counts ADD COLUMN cells double precision;

-- +goose Down
ALTER TABLE sample_counts DROP COLUMN cells;
