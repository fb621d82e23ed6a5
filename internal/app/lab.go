package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/labserver"
	"github.com/phytoscreen/phytoscreen/labsync"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/report"
	"github.com/phytoscreen/phytoscreen/store"
)

// Programme is what the programme views read from the lab server (*labserver.Server).
type Programme interface {
	Benches(ctx context.Context) ([]labrec.BenchInfo, error)
	Sites(ctx context.Context) ([]string, error)
	Samples(ctx context.Context, f labrec.ProgrammeFilter) ([]labrec.ProgrammeSample, error)
	SampleCounts(ctx context.Context, bench, sampleID string) (labrec.SampleTally, error)
	SampleAlerts(ctx context.Context, bench, sampleID string) ([]labrec.ProgrammeAlert, error)
	TaxonChoices(ctx context.Context, site string) ([]labrec.Count, error)
	SiteTrend(ctx context.Context, site, label string, from, to time.Time) ([]labrec.TrendPoint, error)
}

var _ Programme = (*labserver.Server)(nil)

// LabSyncInterval is how often the app's sync looks for work when nothing asks: a run
// that finishes is pushed within it, and labels set elsewhere arrive within it.
const LabSyncInterval = 10 * time.Second

// Lab is the app's link to its programme's lab server: the settings, the sync running
// while they are enabled, and a connection for the programme views. With the server
// not configured it does nothing, and the bench works as it always has.
type Lab struct {
	prefs Prefs
	box   *store.Store
	ctx   context.Context // the app's lifetime

	// applyMu serialises Apply and Close, the settings they save and the restart they
	// make: two Applies at once (or one racing Close) would otherwise each start a
	// syncer and leak one, or save one's settings and run the other's.
	applyMu sync.Mutex

	mu       sync.Mutex
	gen      int // bumped by every restart: a views' connection opened before it is stale
	settings LabSettings
	typed    string // a password typed in Settings and not saved: used until the app closes
	syncer   *labsync.Syncer
	stop     context.CancelFunc
	done     chan struct{}
	view     *labserver.Server // the programme views' connection, opened when first asked
}

// NewLab reads the lab server settings and, when enabled, starts the sync of box.
// Close stops it.
func NewLab(ctx context.Context, prefs Prefs, box *store.Store) *Lab {
	l := &Lab{prefs: prefs, box: box, ctx: ctx, settings: LoadLabSettings(prefs)}
	if box != nil {
		box.SetCellsOf(PackCells())       // the server's tallies as History counts them
		box.SetStandingOf(PackStanding()) // and where each sample stands, as History says it
	}
	if err := l.restart(); err != nil {
		slog.Warn("lab server sync not started", "err", err)
	}
	return l
}

// Settings are the lab server settings in use.
func (l *Lab) Settings() LabSettings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.settings
}

// Apply checks, saves and applies new settings: the password goes into the OS keyring
// when savePassword, never into the preferences; the sync restarts with them.
func (l *Lab) Apply(s LabSettings, password string, savePassword bool) error {
	l.applyMu.Lock()
	defer l.applyMu.Unlock()
	if err := s.Check(); err != nil {
		return err
	}
	var notKept error
	if savePassword && password != "" {
		if err := SaveLabPassword(s, password); err != nil {
			// No keyring (a bare desktop, a server session): the settings still apply
			// and the password is used for this session, said so, rather than refusing
			// the whole save beside Settings' own "Saved." (helper-40).
			notKept = fmt.Errorf("%w: %w", ErrPasswordNotKept, err)
			savePassword = false
		}
	}
	s.Save(l.prefs)
	l.mu.Lock()
	l.typed = ""
	if !savePassword {
		l.typed = password
	}
	l.mu.Unlock()
	if l.box != nil {
		// "" too: a cleared name goes back to the host name, not to the one set before.
		if err := l.box.SetBenchName(l.ctx, s.BenchName); err != nil {
			return err
		}
	}
	l.mu.Lock()
	l.settings = s
	l.mu.Unlock()
	return errors.Join(notKept, l.restart())
}

// ErrPasswordNotKept is wrapped in Apply's error when the settings were applied but the
// OS keyring could not keep the password: it is used until the app closes.
var ErrPasswordNotKept = errors.New("the OS keyring could not keep the password")

// config is the server configuration of s, with the password from its sources (an
// explicit one, as typed in Settings, first).
func config(s LabSettings, typed string) (labserver.Config, error) {
	pw := typed
	if pw == "" {
		var err error
		if pw, _, err = LabPassword(s); err != nil {
			// No keyring here: go on without a password, as the server may take other
			// proof (~/.pgpass, a socket's peer check); if it does not, its refusal
			// names the password, and the keyring's own error is logged.
			slog.Warn("lab server password: the keyring could not be read", "err", err)
		}
	}
	return labserver.Config{DSN: s.DSN, Password: pw, SSLMode: s.SSLMode, RootCert: s.RootCert}, nil
}

// restart stops the running sync and the views' connection, and starts the sync again
// when the settings enable it. The caller holds applyMu (NewLab: nobody else has l yet).
func (l *Lab) restart() error {
	l.mu.Lock()
	stop, done, view := l.stop, l.done, l.view
	l.stop, l.done, l.view, l.syncer = nil, nil, nil, nil
	l.gen++
	s := l.settings
	l.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	if view != nil {
		view.Close()
	}
	if !s.Enabled || l.box == nil {
		return nil
	}
	if err := s.Check(); err != nil {
		return err
	}
	name, err := l.box.BenchName(l.ctx)
	if err != nil {
		return err
	}
	sy, err := labsync.New(l.box, labsync.Options{
		BenchName: name, Interval: LabSyncInterval, Busy: l.box.Recording,
		Dial: func(ctx context.Context) (labsync.Server, error) {
			l.mu.Lock()
			set, typed := l.settings, l.typed
			l.mu.Unlock()
			cfg, err := config(set, typed)
			if err != nil {
				return nil, err
			}
			return labserver.Open(ctx, cfg)
		},
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(l.ctx)
	done = make(chan struct{})
	go func() {
		defer close(done)
		sy.Run(ctx)
	}()
	l.mu.Lock()
	l.syncer, l.stop, l.done = sy, cancel, done
	l.mu.Unlock()
	return nil
}

// Test connects once with s (not saved) and says what it reached.
func (l *Lab) Test(ctx context.Context, s LabSettings, password string) (string, error) {
	if err := s.Check(); err != nil {
		return "", err
	}
	if password == "" {
		// The password typed for this session, as the sync uses it: Test said
		// "password authentication failed" while the sync was connected (helper-40).
		l.mu.Lock()
		password = l.typed
		l.mu.Unlock()
	}
	cfg, err := config(s, password)
	if err != nil {
		return "", err
	}
	srv, err := labserver.Open(ctx, cfg)
	if err != nil {
		return "", err
	}
	defer srv.Close()
	return srv.Describe(ctx)
}

// PasswordFrom says where the password of s comes from: PasswordFromEnv,
// PasswordFromKeyring, "typed" (this session only) or "" (none), with the keyring's error.
func (l *Lab) PasswordFrom(s LabSettings) (string, error) {
	_, from, err := LabPassword(s)
	l.mu.Lock()
	typed := l.typed
	l.mu.Unlock()
	if from == "" && typed != "" {
		return PasswordTyped, err
	}
	return from, err
}

// PasswordTyped is PasswordFrom's answer for a password typed and not saved.
const PasswordTyped = "typed for this session"

// ForgetPassword removes s's password from the keyring and this session.
func (l *Lab) ForgetPassword(s LabSettings) error {
	l.mu.Lock()
	l.typed = ""
	l.mu.Unlock()
	return ForgetLabPassword(s)
}

// Status is the sync's state; not configured when the sync is off.
func (l *Lab) Status() labsync.Status {
	l.mu.Lock()
	sy := l.syncer
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(l.ctx, 2*time.Second)
	defer cancel()
	if sy == nil {
		st := labsync.Status{}
		if l.box != nil {
			if ob, err := l.box.OutboxState(ctx); err == nil {
				st.Pending, st.Oldest = ob.Pending, ob.Oldest
			}
		}
		return st
	}
	return sy.Status(ctx)
}

// BenchID is this bench's global identity ("" without a store).
func (l *Lab) BenchID() string {
	if l.box == nil {
		return ""
	}
	id, err := l.box.BenchID(l.ctx)
	if err != nil {
		slog.Warn("read the bench ID", "err", err)
	}
	return id
}

// SyncNow asks the running sync for a round now.
func (l *Lab) SyncNow() {
	l.mu.Lock()
	sy := l.syncer
	l.mu.Unlock()
	if sy != nil {
		sy.Kick()
	}
}

// errNoServer is the programme views' answer while no server is configured.
var errNoServer = errors.New("no lab server is configured: set one in Settings › Lab server")

// Programme is the lab server's programme views, on a connection kept for them.
func (l *Lab) Programme(ctx context.Context) (Programme, error) {
	srv, err := l.viewConn(ctx)
	if err != nil {
		return nil, err
	}
	return srv, nil
}

func (l *Lab) viewConn(ctx context.Context) (*labserver.Server, error) {
	l.mu.Lock()
	view, s, typed, gen := l.view, l.settings, l.typed, l.gen
	l.mu.Unlock()
	if view != nil {
		return view, nil
	}
	if !s.Enabled || s.DSN == "" {
		return nil, errNoServer
	}
	cfg, err := config(s, typed)
	if err != nil {
		return nil, err
	}
	srv, err := labserver.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gen != gen {
		// The settings changed (or the lab closed) while it connected: this connection
		// was made with the old ones, so it is not kept for the next caller.
		srv.Close()
		return nil, fmt.Errorf("the lab server settings changed while connecting: try again")
	}
	if l.view != nil { // another caller opened one meanwhile
		srv.Close()
		return l.view, nil
	}
	l.view = srv
	return srv, nil
}

// WeekReport writes the programme's weekly report of week to path (whole or not at all).
// Its week runs from Monday 00:00 in this machine's zone, as History's date filter cuts
// its days.
func (l *Lab) WeekReport(ctx context.Context, week labrec.Week, path string) error {
	srv, err := l.viewConn(ctx)
	if err != nil {
		return err
	}
	wr, err := srv.WeekReport(ctx, week, time.Local)
	if err != nil {
		return fmt.Errorf("read week %s from the lab server: %w", week, err)
	}
	wr.Made = time.Now()
	return outfile.Write(path, func(w io.Writer) error { return report.WriteWeekPDF(w, wr, Version) })
}

// Close stops the sync and closes the views' connection.
func (l *Lab) Close() {
	l.applyMu.Lock()
	defer l.applyMu.Unlock()
	l.mu.Lock()
	l.settings.Enabled = false
	l.mu.Unlock()
	if err := l.restart(); err != nil {
		slog.Warn("stop the lab server sync", "err", err)
	}
}
