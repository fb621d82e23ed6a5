package labserver

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/pgtest"
	"github.com/phytoscreen/phytoscreen/labrec"
)

// cluster is the PostgreSQL the tests share; each test makes its own database (and its
// own roles: roles are cluster-wide).
var cluster *pgtest.Cluster

func TestMain(m *testing.M) {
	c, err := pgtest.StartE("")
	if err != nil {
		// Fail, never skip: these tests are what shows the lab server works.
		fmt.Fprintln(os.Stderr, "labserver tests need PostgreSQL:", err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	c.Remove()
	os.Exit(code)
}

var serial atomic.Int64

// unique makes a name no other test of this run uses.
func unique(prefix string) string {
	return fmt.Sprintf("%s_%d", prefix, serial.Add(1))
}

var nonWord = regexp.MustCompile(`[^a-z0-9_]+`)

// newDB makes a migrated database for the test and returns its name.
func newDB(t testing.TB) string {
	t.Helper()
	name := unique(nonWord.ReplaceAllString(strings.ToLower(t.Name()), "_"))
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	cluster.CreateDatabase(t, name)
	if _, _, err := Migrate(context.Background(), Config{DSN: cluster.AdminDSN(name)}); err != nil {
		t.Fatal(err)
	}
	return name
}

// role makes a login role in group (phytoscreen_bench, _reader or _reviewer).
func role(t testing.TB, group string) string {
	t.Helper()
	name := unique(strings.TrimPrefix(group, "phytoscreen_"))
	cluster.Exec(t, "postgres", fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD 'pw of %s' IN ROLE %s", name, name, group))
	return name
}

// connect opens the server as user over the unix socket.
func connect(t testing.TB, db, user string) *Server {
	t.Helper()
	s, err := Open(context.Background(), Config{DSN: cluster.DSN(user, db)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// benchServer makes a bench role, connects as it and registers bench.
func benchServer(t testing.TB, db, bench, name string) *Server {
	t.Helper()
	s := connect(t, db, role(t, "phytoscreen_bench"))
	if err := s.Hello(context.Background(), bench, name); err != nil {
		t.Fatal(err)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// cropPNG is a realistic crop: a 64×64 grey cell with noise, about 3 kB as PNG.
func cropPNG(r *rand.Rand) []byte {
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			dx, dy := float64(x-32), float64(y-32)
			v := 200.0
			if dx*dx+dy*dy < 500 {
				v = 90
			}
			img.SetGray(x, y, color.Gray{uint8(v + r.Float64()*25)})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// fixture is a run as a bench would push it.
type fixture struct {
	batch   labrec.RunBatch
	objects []labrec.Object
}

func (f fixture) stream(fn func(labrec.Object) error) error {
	for _, o := range f.objects {
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

var t0 = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC) // a Tuesday of 2026-W48

// makeRun makes run runID of sample sampleID with n objects numbered from firstObj, two
// taxa, a tally, an alert (level) and a perf record.
func makeRun(bench, sampleID, site string, taken time.Time, runID, firstObj int64, n int, level string) fixture {
	r := rand.New(rand.NewPCG(uint64(runID), uint64(firstObj)))
	f := fixture{}
	f.batch.Tally = labrec.SampleTally{
		Sample: labrec.Sample{Bench: bench, ID: sampleID, Site: site, Taken: taken, Notes: "n",
			Factor: 1, Lat: ptr(54.1), Lon: ptr(8.5), Analyst: "ana", Created: taken.Add(time.Hour)},
		VolumeML: 10, Objects: n,
		Counts: []labrec.Count{
			{Label: "pseudo_nitzschia", Kind: "taxon", Name: "Pseudo-nitzschia", Group: "diatom", GroupName: "Diatoms", Unit: "cell", Count: n - 1, Validated: 1, PerL: float64(n-1) * 100, CILow: 50, CIHigh: 150},
			{Label: "diatom", Kind: "group", Name: "Diatoms", Unit: "cell", Count: n - 1, PerL: float64(n-1) * 100},
			{Label: "unidentified", Kind: "unidentified", Name: "Unidentified", Count: 1, PerL: 100},
		},
	}
	end := taken.Add(2 * time.Hour)
	f.batch.Run = labrec.Run{Bench: bench, ID: runID, SampleID: sampleID, Spec: "folder:/data/" + sampleID,
		Pack: "baltic", Model: "m.onnx", Threshold: 0.5, VolumeML: 10, Started: taken.Add(time.Hour),
		Ended: &end, FramesSeen: 100, FramesExpected: 100, Status: "done"}
	f.batch.Taxa = []labrec.Taxon{
		{Pack: "baltic", Label: "pseudo_nitzschia", Idx: 0, Name: "Pseudo-nitzschia", Group: "diatom", GroupName: "Diatoms", Unit: "cell"},
		{Pack: "baltic", Label: "other", Idx: 1, Name: "Other"},
	}
	if level != "" {
		f.batch.Alerts = []labrec.Alert{{ID: runID*10 + 1, RunID: runID, Time: end, Rule: "pn", Taxon: "pseudo_nitzschia",
			FromLevel: "none", ToLevel: level, Count: n, CellsPerL: 1e5, CILow: 1, CIHigh: 2, Threshold: "100000 cells/L",
			ThresholdPerL: 1e5, ThresholdSource: "rules.toml"}}
	}
	f.batch.Perf = []labrec.Perf{{ID: runID*10 + 2, RunID: runID, Time: end, Variant: "fp32", Cells: n, DurationMS: 12.5, Watts: ptr(30.0)}}
	for i := 0; i < n; i++ {
		o := labrec.Object{ID: firstObj + int64(i), RunID: runID, Seq: i, Time: taken.Add(time.Hour + time.Duration(i)*time.Second),
			Frame: i, Track: i, X: i, Y: 2 * i, W: 56, H: 56, Area: ptr(400.5), ESD: ptr(22.6), OnBorder: i%7 == 0,
			Kind: "cell", Parts: ptr(1), File: fmt.Sprintf("f%04d.png", i), Crop: cropPNG(r),
			Label: "pseudo_nitzschia", Prob: 0.9, Top: "pseudo_nitzschia:0.9", Variant: "fp32"}
		if i == n-1 {
			o.Label, o.Top = "other", "other:0.6"
		}
		f.objects = append(f.objects, o)
	}
	return f
}
