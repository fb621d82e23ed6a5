package ui

import (
	"context"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/labsync"
)

// LabServer is the app's link to the programme's lab server (issue 16): its settings,
// the sync's state and the programme views. It is nil in env when the app was built
// without one; then Settings has no Lab server tab and History shows this bench only,
// exactly as before. internal/app implements it over labsync and labserver, so the UI
// never sees PostgreSQL. Its methods may block (network, keyring): the UI calls them on
// goroutines, except Settings and BenchID, which must answer at once.
type LabServer interface {
	Settings() app.LabSettings
	// Apply saves the settings (and the password into the keyring when savePassword) and
	// restarts the sync with them. password "" keeps the password as it is (keyring or
	// environment); a password with savePassword false is used until the app closes.
	Apply(s app.LabSettings, password string, savePassword bool) error
	// Test connects once with these settings (not saved) and says what it reached, e.g.
	// "connected to host/db as bench_a; schema 1; 3 benches". password "": the one
	// app.LabPassword finds.
	Test(ctx context.Context, s app.LabSettings, password string) (string, error)
	// PasswordFrom says where the password of s comes from: app.PasswordFromEnv,
	// app.PasswordFromKeyring or "" (none), and why the keyring could not be read
	// (app.LabPassword's answer without the password).
	PasswordFrom(s app.LabSettings) (string, error)
	// ForgetPassword removes s's password from the keyring (app.ForgetLabPassword).
	ForgetPassword(s app.LabSettings) error
	Status() labsync.Status // outbox, last sync, connected, last error
	BenchID() string
	SyncNow()
	// Programme reads the programme views; error when no server is configured or it
	// cannot be reached.
	Programme(ctx context.Context) (Programme, error)
	// WeekReport writes the weekly programme report PDF of week to path.
	WeekReport(ctx context.Context, week labrec.Week, path string) error
}

// Programme is what the lab server holds of every bench, for History's programme view
// (app.Programme, which *labserver.Server implements).
type Programme = app.Programme

// labTimeout bounds one exchange with the lab server from the UI (a test, a page of the
// programme view), so a server that stopped answering shows an error instead of a
// spinner for ever.
const labTimeout = 30 * time.Second
