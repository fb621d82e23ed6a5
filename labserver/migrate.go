package labserver

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// SchemaVersion is the schema version this phytoscreen writes: Hello refuses a server
// at another version (older: migrate it; newer: update phytoscreen).
const SchemaVersion int64 = 3

// versionTable is goose's table of applied migrations; Hello reads the version from it.
const versionTable = "goose_db_version"

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate brings the programme's database to SchemaVersion, as the programme's admin (a
// role that may create tables and roles). It is safe to run twice and from two places
// at once: a session advisory lock lets one migrate while the other waits, then finds
// nothing to do. It returns the versions before and after. The admin connects as every
// other role does (cfg's TLS mode, CA and password), so a server that demands TLS or a
// password is migrated the same way it is used.
func Migrate(ctx context.Context, admin Config) (from, to int64, err error) {
	pc, err := parseConfig(admin)
	if err != nil {
		return 0, 0, fmt.Errorf("lab server migrate: %w", err)
	}
	cfg := pc.ConnConfig
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	where := describe(cfg.Host, cfg.Port, cfg.Database)
	if err := db.PingContext(ctx); err != nil {
		return 0, 0, explain("lab server migrate: connecting to "+where, err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return 0, 0, err
	}
	// Lock retried every second for 5 minutes: another admin's migration rarely takes
	// longer, and a test running two at once should not wait 5 s for the first retry.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return 0, 0, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return 0, 0, fmt.Errorf("lab server migrate: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		var pe *goose.PartialError
		if errors.As(err, &pe) {
			slog.Error("lab server migration failed", "where", where, "applied", len(pe.Applied), "err", pe.Err)
		}
		return 0, 0, explain("lab server migrate "+where+" (as the programme's admin: a role that may create tables and roles)", err)
	}
	to, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, explain("lab server migrate: reading the version of "+where, err)
	}
	from = to
	if len(results) > 0 {
		// from is the version before the first migration this call applied.
		from = 0
		first := results[0].Source.Version
		for _, s := range p.ListSources() {
			if s.Version < first && s.Version > from {
				from = s.Version
			}
		}
		for _, r := range results {
			slog.Info("lab server migrated", "where", where, "migration", r.String())
		}
	}
	return from, to, nil
}
