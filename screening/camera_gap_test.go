package screening_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/testpack"

	"github.com/phytoscreen/phytoscreen/vision"

	"gocv.io/x/gocv"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// The tests of this file and soak_test.go run the whole pipeline as the app does: real
// frames, capture's segmenter and tracker, the ONNX classifier and the session store.

var quiet = slog.New(slog.DiscardHandler)

// demoVideo writes the bundled demo video (36 frames, 3 still fields of 10 cells) into a
// temporary folder and returns its path.
func demoVideo(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.avi")
	if err := os.WriteFile(path, assets.DemoVideo(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// demoFrames decodes the demo video's frames; the test closes them (closeMats).
func demoFrames(t testing.TB) []gocv.Mat {
	t.Helper()
	src, err := capture.OpenVideo(demoVideo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []gocv.Mat
	for {
		f, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			closeMats(out)
			t.Fatal(err)
		}
		out = append(out, f.Mat)
	}
}

func closeMats(ms []gocv.Mat) {
	for _, m := range ms {
		m.Close()
	}
}

// realModel loads the built-in pack, its taxonomy and the optimised classifier.
func realModel(t testing.TB) (*inference.Classifier, *screening.Taxonomy) {
	t.Helper()
	pack, err := inference.LoadPack(assets.DefaultPack(), "built-in:"+assets.DefaultPackName)
	if err != nil {
		t.Fatal(err)
	}
	testpack.RequireRuntime(t)
	clf, err := inference.NewClassifier(pack, inference.Options{Variant: inference.Optimised, Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(clf.Close)
	tx, err := screening.ForPack(pack)
	if err != nil {
		t.Fatal(err)
	}
	return clf, tx
}

// replayCamera is a camera device (capture.Device) that delivers recorded frames, in
// order across reopenings, and can be unplugged: from frame lostAt it gives no frame
// until it has been reopened, and failOpens reopening attempts fail first. After the
// last frame it waits for end to close, then gives no frame (the run is being stopped).
type replayCamera struct {
	frames    []gocv.Mat
	next      int
	lostAt    int // -1: never unplugged
	lost      bool
	failOpens int
	opens     int
	end       chan struct{}
}

type replayDevice struct{ c *replayCamera }

func (d replayDevice) Read(m *gocv.Mat) bool {
	c := d.c
	if c.next == c.lostAt && !c.lost {
		c.lost, c.lostAt = true, -1 // unplugged
	}
	if c.lost {
		return false
	}
	if c.next >= len(c.frames) {
		<-c.end
		return false
	}
	c.frames[c.next].CopyTo(m)
	c.next++
	return true
}

func (d replayDevice) Close() error { return nil }

// open is the camera's Opener: the first open and reopenings after failOpens failures
// succeed (plugging the camera back in).
func (c *replayCamera) open() (capture.Device, error) {
	c.opens++
	if c.lost {
		if c.failOpens > 0 {
			c.failOpens--
			return nil, errors.New("/dev/video0: no such device")
		}
		c.lost = false
	}
	return replayDevice{c}, nil
}

// cameraRun is what a screening run over a replayed camera gave.
type cameraRun struct {
	snap        screening.Snapshot
	foundAtLoss int // cells found when the camera was reported lost (-1: never)
	store       *store.Store
	sampleID    string
}

// screenCamera screens the frames through a replayed camera (unplugged at lostAt, -1:
// never) with the real pipeline, recording into a new session store.
func screenCamera(t *testing.T, clf *inference.Classifier, tx *screening.Taxonomy, frames []gocv.Mat, lostAt, failOpens int) cameraRun {
	t.Helper()
	cam := &replayCamera{frames: frames, lostAt: lostAt, failOpens: failOpens, end: make(chan struct{})}
	var pipe atomic.Pointer[screening.Pipeline]
	found := atomic.Int64{}
	found.Store(-1)
	onStatus := func(st capture.Status) {
		t.Logf("camera status: %v", st)
		p := pipe.Load()
		if p == nil {
			return
		}
		if st.Kind == capture.StatusLost {
			found.Store(int64(p.Snapshot().Cells.Found))
		}
		p.SourceStatus(st)
	}
	src, err := capture.OpenCamera("camera:replay", cam.open, capture.CameraOptions{LostAfter: 3, Retry: time.Millisecond,
		RetryMax: 4 * time.Millisecond, Attempts: 10, OnStatus: onStatus})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	seg, err := vision.NewSegmenter(vision.Options{OnStatus: func(capture.Status) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	db, err := store.Open(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sample := screening.NewSample("CAM-GAP")
	rec, err := db.StartRun(context.Background(), screening.RunInfo{Sample: sample, Spec: capture.Camera("replay"), Model: clf.Variant(), Taxonomy: tx})
	if err != nil {
		t.Fatal(err)
	}
	var p *screening.Pipeline
	p, err = screening.New(screening.Config{Source: src, Segmenter: seg, Classifier: clf, Taxonomy: tx, Sample: sample,
		Threshold: 0, Drop: screening.NeverDrop, Sink: rec, Logger: quiet,
		OnFrame: func(f capture.Frame, _ []vision.Object) {
			if f.Index == len(frames)-1 { // every frame screened: stop, as the technician would
				p.Stop()
				close(cam.end)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	pipe.Store(p)
	snap, runErr := p.Run(context.Background())
	if err := rec.Finish(context.Background(), snap, runErr); err != nil {
		t.Fatal(err)
	}
	if runErr != nil {
		t.Fatalf("run ended with %v", runErr)
	}
	return cameraRun{snap: snap, foundAtLoss: int(found.Load()), store: db, sampleID: sample.ID}
}

// The camera is unplugged in the middle of the second field and comes back at the third
// reconnection attempt, while the real pipeline screens the demo: counting resumes after
// the gap, every cell counted before it is kept, and the counts are those of the same
// frames screened without a gap; the gap (when, at which frame, how many attempts, why)
// is in the snapshot and in the session store, and the store holds every cell counted.
func TestCameraGapDuringScreening(t *testing.T) {
	clf, tx := realModel(t)
	frames := demoFrames(t)
	defer closeMats(frames)
	const lostAt, failOpens = 18, 2

	plain := screenCamera(t, clf, tx, frames, -1, 0)
	gap := screenCamera(t, clf, tx, frames, lostAt, failOpens)
	ps, gs := plain.snap, gap.snap
	t.Logf("without gap: %d frames, %d cells; with gap: %d frames, %d cells (%d found when the camera was lost), gaps %+v",
		ps.Frames.Seen, ps.Cells.Found, gs.Frames.Seen, gs.Cells.Found, gap.foundAtLoss, gs.Gaps)

	if len(ps.Gaps) != 0 || ps.Frames.Seen != len(frames) || ps.Cells.Found == 0 {
		t.Fatalf("run without gap: %d frames, %d cells, gaps %v", ps.Frames.Seen, ps.Cells.Found, ps.Gaps)
	}
	// Counting resumed: every frame was screened, none dropped, and the cells match.
	if gs.Frames.Seen != len(frames) || gs.Frames.Segmented != len(frames) || gs.Frames.Dropped != 0 {
		t.Errorf("with gap: frames %+v, want all %d screened", gs.Frames, len(frames))
	}
	if gs.Cells.Found != ps.Cells.Found || gs.Cells.Failed != 0 {
		t.Errorf("with gap %d cells (%d failed), without %d: the gap lost or added cells", gs.Cells.Found, gs.Cells.Failed, ps.Cells.Found)
	}
	want := map[string]int{}
	for _, x := range ps.Taxa {
		want[x.Label] = x.Count
	}
	for _, x := range gs.Taxa {
		if want[x.Label] != x.Count {
			t.Errorf("%s: %d with gap, %d without", x.Label, x.Count, want[x.Label])
		}
		delete(want, x.Label)
	}
	for l, n := range want {
		t.Errorf("%s: %d without gap, none with", l, n)
	}
	// Nothing counted before the gap is lost, and cells were counted after it.
	if gap.foundAtLoss <= 0 || gap.foundAtLoss >= gs.Cells.Found {
		t.Errorf("%d cells found when the camera was lost, %d at the end: want some before and more after", gap.foundAtLoss, gs.Cells.Found)
	}
	// The gap in the snapshot.
	if len(gs.Gaps) != 1 {
		t.Fatalf("gaps %+v, want one", gs.Gaps)
	}
	g := gs.Gaps[0]
	if g.Source != "camera:replay" || g.Frame != lostAt || g.Attempts != failOpens+1 || !g.End.After(g.Start) ||
		!strings.Contains(g.Reason, "3 reads in a row gave no frame") {
		t.Errorf("gap %+v: want camera:replay lost before frame %d, back at attempt %d, with the reason", g, lostAt, failOpens+1)
	}
	// The gap and every cell in the session store.
	ctx := context.Background()
	evs, err := gap.store.SourceEvents(ctx, gap.sampleID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Kind != screening.SourceLost || evs[0].Frame != lostAt || !strings.Contains(evs[0].Detail, "gave no frame") ||
		evs[1].Kind != screening.SourceReconnected || evs[1].Frame != lostAt || evs[1].Attempt != failOpens+1 || evs[1].Time.Before(evs[0].Time) {
		t.Errorf("stored source events %+v: want lost and reconnected at frame %d", evs, lostAt)
	}
	si, err := gap.store.Sample(ctx, gap.sampleID)
	if err != nil {
		t.Fatal(err)
	}
	seqs := map[int]bool{}
	after := 0
	if err := gap.store.Objects(ctx, si, false, func(o store.ObjectRow) error {
		seqs[o.Seq] = true
		if o.Frame >= lostAt {
			after++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for seq := 1; seq <= gs.Cells.Found; seq++ {
		if !seqs[seq] {
			t.Errorf("cell %d is not in the store", seq)
		}
	}
	if len(seqs) != gs.Cells.Found || after == 0 {
		t.Errorf("store holds %d cells (%d after the gap), the run counted %d", len(seqs), after, gs.Cells.Found)
	}
	if si.Runs[0].Status != "done" || si.Runs[0].FramesSeen != len(frames) {
		t.Errorf("stored run %+v", si.Runs[0])
	}
}
