package labsync

import (
	"context"
	"time"

	"github.com/phytoscreen/phytoscreen/labrec"
)

// Outbox is the bench's side: the session store (*store.Store implements it). Changes
// queue themselves in the store (triggers), so nothing the bench records can miss it.
type Outbox interface {
	// BenchID is this bench's global identity, made once and kept in the store.
	BenchID(ctx context.Context) (string, error)
	// PendingSync lists up to limit outbox entries, oldest first. Runs still being
	// recorded by this process are left out until they finish.
	PendingSync(ctx context.Context, limit int) ([]labrec.Pending, error)
	// OutboxState counts what waits.
	OutboxState(ctx context.Context) (labrec.OutboxState, error)
	// SyncRun reads a run with its sample, tally, taxa, alerts and perf records.
	SyncRun(ctx context.Context, runID int64) (labrec.RunBatch, error)
	// SyncObjects calls fn for each object of a run, in ID order, crops included.
	SyncObjects(ctx context.Context, runID int64, fn func(labrec.Object) error) error
	// SyncSample reads a sample and its tally; Gone is set when the bench no longer
	// holds it.
	SyncSample(ctx context.Context, sampleID string) (labrec.SampleTally, error)
	// SyncLabel reads an object's validation (a zero Validation.At: it has none now).
	SyncLabel(ctx context.Context, objectID int64) (labrec.Label, error)
	// DoneSync removes entries that were pushed (by Seq: an entry queued again since
	// has a new Seq and stays).
	DoneSync(ctx context.Context, seqs []int64) error
	// ApplyLabels takes validations made elsewhere: each replaces the local one only
	// when it is later (last writer wins), without queueing it back. It returns the
	// samples whose labels changed (their tallies are queued for pushing) and how many
	// labels it applied.
	ApplyLabels(ctx context.Context, labels []labrec.Label) (changed []string, applied int, err error)
	// SetSyncMark and SyncMark keep the sync's own state: the last pulled revision and
	// the last successful sync.
	SetSyncMark(ctx context.Context, key, value string) error
	SyncMark(ctx context.Context, key string) (string, error)
}

// Server is the programme's lab server (*labserver.Server implements it).
type Server interface {
	// Hello registers the bench under the connected role (first time) and checks the
	// server's schema is one this phytoscreen can write.
	Hello(ctx context.Context, bench, name string) error
	// PushRun writes a run, its sample and tally, taxa, alerts, perf and objects in
	// one transaction; pushing it again changes nothing (validations: the later wins).
	PushRun(ctx context.Context, b labrec.RunBatch, objects func(fn func(labrec.Object) error) error) error
	// PushSample writes a sample and replaces its tally.
	PushSample(ctx context.Context, t labrec.SampleTally) error
	// PushLabels writes validations, each only where it is later than the server's.
	PushLabels(ctx context.Context, labels []labrec.Label) error
	// PullLabels lists validations of the bench's objects changed on the server after
	// revision since, oldest first, at most limit.
	PullLabels(ctx context.Context, bench string, since int64, limit int) ([]labrec.Label, error)
	Ping(ctx context.Context) error
	Close()
}

// Status is what Settings shows of the sync.
type Status struct {
	Configured bool
	Connected  bool
	Pending    int
	Oldest     time.Time
	LastSync   time.Time // last time everything pending was pushed and labels pulled
	LastError  string
	Refused    bool // the last round failed because the server refused the login
	Pushed     int  // entries pushed since the syncer started
	Pulled     int  // labels applied since the syncer started
}
