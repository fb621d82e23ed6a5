package store

import (
	"context"
	"database/sql"
	"fmt"
)

// SQLite gives a new row of an INTEGER PRIMARY KEY table the largest ID plus one, so
// after the newest rows are deleted (a discarded run, a trash emptied of the latest
// sample) their IDs come back for new rows. The lab server knows runs, objects and alerts
// by these IDs: a reused one would make a new object inherit an old one's label there.
// Before a deletion the store keeps the next free ID of each such table in meta, and
// inserts take the larger of it and SQLite's own, so an ID is never given twice.

// idTables are the tables whose IDs leave the bench (labrec records carry them).
var idTables = []string{"sources", "objects", "alerts"}

func nextIDKey(table string) string { return "next_id_" + table }

// keepNextIDs records, inside the deleting transaction tx, each table's next free ID.
func keepNextIDs(ctx context.Context, tx *sql.Tx) error {
	for _, t := range idTables {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) SELECT ?, coalesce(max(id), 0) + 1 FROM `+t+`
			WHERE true ON CONFLICT(key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))`, nextIDKey(t)); err != nil {
			return fmt.Errorf("keep the next %s ID: %w", t, err)
		}
	}
	return nil
}

// newIDSQL is the SQL expression of the ID a new row of table gets: SQLite's choice, or
// the kept one when deletions took the rows above it.
func newIDSQL(table string) string {
	return fmt.Sprintf(`(SELECT max(coalesce((SELECT max(id) FROM %s), 0) + 1, coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '%s'), 0)))`,
		table, nextIDKey(table))
}
