package labsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/phytoscreen/phytoscreen/labrec"
)

// Options tune a Syncer; zero fields take the defaults.
type Options struct {
	// BenchName is shown in the programme views (default: the bench's ID).
	BenchName string
	// Interval is the time between rounds when nothing asks for one (default 30 s): a
	// finished run asks (Kick), so this only bounds how late relabels made elsewhere
	// arrive and how soon a returned server is noticed.
	Interval time.Duration
	// Batch is how many outbox entries one read takes (default 64).
	Batch int
	// LabelPage is how many labels one pull takes (default 500).
	LabelPage int
	// MinBackoff and MaxBackoff bound the wait after a failed round; it doubles from
	// one to the other while the server stays away (defaults 1 s and 2 min).
	MinBackoff, MaxBackoff time.Duration
	// Busy reports that the bench is screening now. While it is, the syncer works at
	// most BusyShare of the time (it sleeps after each step in proportion to the step),
	// so screening keeps its throughput; when idle it pushes flat out.
	Busy      func() bool
	BusyShare float64 // default 0.05
	// Dial connects to the server (a fresh connection after a failure).
	Dial func(ctx context.Context) (Server, error)
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.LabelPage <= 0 {
		o.LabelPage = 500
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(2*time.Minute, o.MinBackoff)
	}
	if o.BusyShare <= 0 || o.BusyShare > 1 {
		o.BusyShare = 0.05
	}
	if o.Busy == nil {
		o.Busy = func() bool { return false }
	}
}

// Sync marks kept in the store.
const (
	markLabelRev = "label_rev" // the last server revision of labels applied here
	markLastSync = "last_sync" // RFC 3339: the last round that left nothing pending
)

// Syncer pushes a bench's outbox to the lab server and pulls back labels set elsewhere.
// Run loops until its context ends; Once does one full round (the CLI's sync). The bench
// never waits for it: a server that is down only makes the outbox longer.
type Syncer struct {
	box Outbox
	o   Options

	kick chan struct{}

	mu           sync.Mutex
	srv          Server // nil while not connected
	bench        string
	connected    bool
	lastErr      string
	loginRefused bool // the last round failed on the login: the server is up
	pushed       int
	pulled       int
	// stuck are entries the server refused for their content (not for being away),
	// with the refusal: they stay in the outbox and are retried by the next Syncer, but
	// do not hold up the rest of this one's work.
	stuck map[int64]string
}

// New makes a syncer of box with o.Dial as the way to the server.
func New(box Outbox, o Options) (*Syncer, error) {
	if o.Dial == nil {
		return nil, errors.New("labsync: no way to reach the server (Options.Dial is nil)")
	}
	o.defaults()
	return &Syncer{box: box, o: o, kick: make(chan struct{}, 1), stuck: map[int64]string{}}, nil
}

// Kick asks for a round now (a run finished, the user pressed Sync now).
func (s *Syncer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default: // one is already asked for
	}
}

// Run syncs until ctx ends: a round at once, then after each Kick or Interval, with a
// growing wait after a failure. It closes its connection when it returns.
func (s *Syncer) Run(ctx context.Context) {
	defer s.disconnect()
	wait := time.Duration(0)
	backoff := s.o.MinBackoff
	for {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-s.kick:
				t.Stop()
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		_, err := s.Once(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if errors.Is(err, labrec.ErrLoginRefused) {
				// The server is up and said no: retrying at once only piles up failed
				// logins in its log (and may lock the role out).
				backoff = s.o.MaxBackoff
			}
			slog.Warn("lab server sync failed; the outbox keeps what waits", "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(2*backoff, s.o.MaxBackoff)
		default:
			wait, backoff = s.o.Interval, s.o.MinBackoff
		}
	}
}

// Result is what one round did.
type Result struct {
	Pushed  int // outbox entries pushed
	Objects int // objects pushed with runs
	Pulled  int // labels from elsewhere applied here
	Stuck   int // entries the server refused (they stay queued)
	Pending int // what still waits after the round
}

// Once connects when needed, pushes everything pending and pulls the labels changed
// elsewhere. An error leaves the connection closed and everything not pushed queued.
func (s *Syncer) Once(ctx context.Context) (Result, error) {
	var res Result
	srv, bench, err := s.connect(ctx)
	if err != nil {
		s.fail(err)
		return res, err
	}
	if err := s.push(ctx, srv, bench, &res); err != nil {
		s.fail(err)
		return res, err
	}
	pulled := res.Pulled
	if err := s.pull(ctx, srv, bench, &res); err != nil {
		s.fail(err)
		return res, err
	}
	if res.Pulled > pulled {
		// The labels applied here changed their samples' tallies (queued in the
		// outbox): pushed now, not at the next sync, so the server's figures and the
		// weekly report follow the review at once (helper-70: "1 waiting").
		if err := s.push(ctx, srv, bench, &res); err != nil {
			s.fail(err)
			return res, err
		}
	}
	st, err := s.box.OutboxState(ctx)
	if err != nil {
		return res, err
	}
	res.Pending = st.Pending
	s.mu.Lock()
	res.Stuck = len(s.stuck)
	s.lastErr, s.loginRefused = "", false
	for _, why := range s.stuck {
		s.lastErr = why
	}
	s.mu.Unlock()
	if st.Pending == res.Stuck {
		if err := s.box.SetSyncMark(ctx, markLastSync, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return res, err
		}
	}
	return res, nil
}

// connect returns the live connection, dialling and greeting the server when there is
// none.
func (s *Syncer) connect(ctx context.Context) (Server, string, error) {
	s.mu.Lock()
	srv, bench := s.srv, s.bench
	s.mu.Unlock()
	if srv != nil {
		return srv, bench, nil
	}
	bench, err := s.box.BenchID(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("read this bench's ID: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	srv, err = s.o.Dial(dctx)
	if err != nil {
		return nil, "", err
	}
	name := s.o.BenchName
	if name == "" {
		name = bench
	}
	if err := srv.Hello(dctx, bench, name); err != nil {
		srv.Close()
		return nil, "", err
	}
	s.mu.Lock()
	s.srv, s.bench, s.connected = srv, bench, true
	s.mu.Unlock()
	return srv, bench, nil
}

// fail records a failed round and drops the connection: a server that comes back is
// dialled afresh (and greeted: it may have been rebuilt).
func (s *Syncer) fail(err error) {
	s.mu.Lock()
	s.lastErr = err.Error()
	s.loginRefused = errors.Is(err, labrec.ErrLoginRefused)
	s.mu.Unlock()
	s.disconnect()
}

// Close closes the connection to the server, if one is open. Run closes it when it
// returns; a caller of Once closes it when done.
func (s *Syncer) Close() { s.disconnect() }

func (s *Syncer) disconnect() {
	s.mu.Lock()
	srv := s.srv
	s.srv, s.connected = nil, false
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// push sends the outbox, oldest first, until it is empty or only refused entries
// remain.
func (s *Syncer) push(ctx context.Context, srv Server, bench string, res *Result) error {
	for {
		s.mu.Lock()
		skip := len(s.stuck)
		s.mu.Unlock()
		pending, err := s.box.PendingSync(ctx, s.o.Batch+skip)
		if err != nil {
			return fmt.Errorf("read the outbox: %w", err)
		}
		var todo []labrec.Pending
		s.mu.Lock()
		for _, p := range pending {
			if _, bad := s.stuck[p.Seq]; !bad {
				todo = append(todo, p)
			}
		}
		s.mu.Unlock()
		if len(todo) == 0 {
			return nil
		}
		// Runs first: a label or a sample entry may concern a run queued with them.
		slices.SortStableFunc(todo, func(a, b labrec.Pending) int { return kindOrder(a.Kind) - kindOrder(b.Kind) })
		var labels []labrec.Pending
		for _, p := range todo {
			if p.Kind == labrec.KindLabel {
				labels = append(labels, p)
				continue
			}
			start := time.Now()
			n, err := s.pushOne(ctx, srv, p)
			var local localError
			switch {
			case errors.Is(err, labrec.ErrGone):
				// Removed on the bench since it was queued: nothing is left to push.
				slog.Info("lab server sync: outbox entry no longer held by the bench, dropped", "kind", p.Kind, "ref", p.Ref, "err", err)
			case errors.As(err, &local):
				return err // the bench's own store failed: retried later, never "refused"
			case err != nil:
				if refused := s.refused(ctx, srv, p, err); refused {
					continue
				}
				return err
			}
			if err := s.box.DoneSync(ctx, []int64{p.Seq}); err != nil {
				return fmt.Errorf("mark outbox entry %d pushed: %w", p.Seq, err)
			}
			s.count(1, 0)
			res.Pushed++
			res.Objects += n
			if err := s.pace(ctx, time.Since(start)); err != nil {
				return err
			}
		}
		if len(labels) > 0 {
			start := time.Now()
			if err := s.pushLabels(ctx, srv, bench, labels); err != nil {
				return err
			}
			s.count(len(labels), 0)
			res.Pushed += len(labels)
			if err := s.pace(ctx, time.Since(start)); err != nil {
				return err
			}
		}
	}
}

func kindOrder(k string) int {
	switch k {
	case labrec.KindRun:
		return 0
	case labrec.KindSample:
		return 1
	default:
		return 2
	}
}

// pushOne pushes a run or a sample entry; it returns the objects pushed.
func (s *Syncer) pushOne(ctx context.Context, srv Server, p labrec.Pending) (int, error) {
	switch p.Kind {
	case labrec.KindRun:
		id, err := strconv.ParseInt(p.Ref, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("outbox entry %d: run ID %q: %w", p.Seq, p.Ref, err)
		}
		b, err := s.box.SyncRun(ctx, id)
		if err != nil {
			return 0, localError{fmt.Errorf("read run %d for the server: %w", id, err)}
		}
		n := 0
		objects := func(fn func(labrec.Object) error) error {
			paced := time.Now()
			tp := txPacer{s: s}
			var sent error // the server's error taking an object, told from the store's own
			err := s.box.SyncObjects(ctx, id, func(o labrec.Object) error {
				n++
				if n%64 == 0 { // a long run is paced inside its push too, within bounds
					if err := tp.pace(ctx, time.Since(paced)); err != nil {
						return err
					}
					paced = time.Now()
				}
				sent = fn(o)
				return sent
			})
			if err != nil && sent == nil && ctx.Err() == nil {
				return localError{fmt.Errorf("read the objects of run %d: %w", id, err)}
			}
			return err
		}
		if err := srv.PushRun(ctx, b, objects); err != nil {
			return 0, fmt.Errorf("push run %d of sample %q: %w", id, b.Run.SampleID, err)
		}
		return n, nil
	case labrec.KindSample:
		t, err := s.box.SyncSample(ctx, p.Ref)
		if err != nil {
			return 0, localError{fmt.Errorf("read sample %q for the server: %w", p.Ref, err)}
		}
		if err := srv.PushSample(ctx, t); err != nil {
			return 0, fmt.Errorf("push sample %q: %w", p.Ref, err)
		}
		return 0, nil
	}
	return 0, fmt.Errorf("outbox entry %d has kind %q, which this phytoscreen does not know: a newer phytoscreen wrote it", p.Seq, p.Kind)
}

// localError is a failure of the bench's own store while reading an entry: the server
// is not to blame, so the entry is retried with the backoff instead of set aside.
type localError struct{ error }

func (e localError) Unwrap() error { return e.error }

// pushLabels pushes the validations of label entries in one call.
func (s *Syncer) pushLabels(ctx context.Context, srv Server, bench string, entries []labrec.Pending) error {
	var labels []labrec.Label
	var seqs []int64
	for _, p := range entries {
		id, err := strconv.ParseInt(p.Ref, 10, 64)
		if err != nil {
			return fmt.Errorf("outbox entry %d: object ID %q: %w", p.Seq, p.Ref, err)
		}
		l, err := s.box.SyncLabel(ctx, id)
		seqs = append(seqs, p.Seq)
		if errors.Is(err, labrec.ErrGone) {
			continue // the object went with its sample's trash: the entry is done
		}
		if err != nil {
			return fmt.Errorf("read the label of object %d: %w", id, err)
		}
		if l.Validation.At.IsZero() {
			// Cleared on the bench (an undo): the server keeps the last validation
			// it had, and the sample's tally (queued with it) carries the change.
			continue
		}
		l.Bench = bench
		labels = append(labels, l)
	}
	if len(labels) > 0 {
		if err := srv.PushLabels(ctx, labels); err != nil {
			return fmt.Errorf("push %d labels: %w", len(labels), err)
		}
	}
	if err := s.box.DoneSync(ctx, seqs); err != nil {
		return fmt.Errorf("mark %d label entries pushed: %w", len(seqs), err)
	}
	return nil
}

// refused tells a refusal of one entry (its content: the server is there and answers)
// from the server being away. A refused entry is set aside for this syncer's life.
func (s *Syncer) refused(ctx context.Context, srv Server, p labrec.Pending, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if srv.Ping(pctx) != nil {
		return false
	}
	slog.Error("lab server refused an outbox entry; it stays queued", "kind", p.Kind, "ref", p.Ref, "err", err)
	s.mu.Lock()
	s.stuck[p.Seq] = err.Error()
	s.mu.Unlock()
	return true
}

// pull applies the labels changed on the server since the last pull.
func (s *Syncer) pull(ctx context.Context, srv Server, bench string, res *Result) error {
	mark, err := s.box.SyncMark(ctx, markLabelRev)
	if err != nil {
		return fmt.Errorf("read the last pulled revision: %w", err)
	}
	var since int64
	if mark != "" {
		if since, err = strconv.ParseInt(mark, 10, 64); err != nil {
			return fmt.Errorf("the store's last pulled revision %q is not a number: %w", mark, err)
		}
	}
	for {
		labels, err := srv.PullLabels(ctx, bench, since, s.o.LabelPage)
		if err != nil {
			return fmt.Errorf("pull labels set elsewhere: %w", err)
		}
		if len(labels) == 0 {
			return nil
		}
		_, applied, err := s.box.ApplyLabels(ctx, labels) // the samples changed are queued by the store
		if err != nil {
			return fmt.Errorf("apply %d labels set elsewhere: %w", len(labels), err)
		}
		for _, l := range labels {
			since = max(since, l.Rev)
		}
		if err := s.box.SetSyncMark(ctx, markLabelRev, strconv.FormatInt(since, 10)); err != nil {
			return err
		}
		s.count(0, applied)
		res.Pulled += applied
		if len(labels) < s.o.LabelPage {
			return nil
		}
	}
}

// pace sleeps while the bench screens, so that the syncer's share of the time stays at
// BusyShare: after work that took d it waits d x (1/share - 1).
func (s *Syncer) pace(ctx context.Context, d time.Duration) error {
	if !s.o.Busy() {
		return ctx.Err()
	}
	return sleep(ctx, s.pause(d))
}

func (s *Syncer) pause(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (1/s.o.BusyShare - 1))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Pauses inside a run's push, where the server's transaction is open: each is held
// under maxTxPause and all of one run's under maxTxPaused. A transaction left idle for
// long is what a server's idle_in_transaction_session_timeout ends, and it holds the
// run's rows and the server's vacuum back; past the budget the rest of the run goes
// unpaced, a short burst screening pays once instead of an ever longer transaction.
const (
	maxTxPause  = 250 * time.Millisecond
	maxTxPaused = 5 * time.Second
)

// txPacer paces the objects of one run's push within those bounds.
type txPacer struct {
	s      *Syncer
	paused time.Duration // slept so far in this transaction
}

// pause is how long to sleep after work that took d, inside the transaction.
func (p *txPacer) pause(d time.Duration) time.Duration {
	w := min(p.s.pause(d), maxTxPause, maxTxPaused-p.paused)
	if w < 0 {
		w = 0
	}
	p.paused += w
	return w
}

func (p *txPacer) pace(ctx context.Context, d time.Duration) error {
	if !p.s.o.Busy() {
		return ctx.Err()
	}
	return sleep(ctx, p.pause(d))
}

func (s *Syncer) count(pushed, pulled int) {
	s.mu.Lock()
	s.pushed += pushed
	s.pulled += pulled
	s.mu.Unlock()
}

// Status is the syncer's state with the outbox as the store has it now.
func (s *Syncer) Status(ctx context.Context) Status {
	s.mu.Lock()
	st := Status{Configured: true, Connected: s.connected, LastError: s.lastErr, Refused: s.loginRefused, Pushed: s.pushed, Pulled: s.pulled}
	s.mu.Unlock()
	if ob, err := s.box.OutboxState(ctx); err == nil {
		st.Pending, st.Oldest = ob.Pending, ob.Oldest
	} else if st.LastError == "" {
		st.LastError = err.Error()
	}
	if m, err := s.box.SyncMark(ctx, markLastSync); err == nil && m != "" {
		st.LastSync, _ = time.Parse(time.RFC3339Nano, m)
	}
	return st
}
