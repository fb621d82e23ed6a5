package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// killChildEnv names the database a re-run test binary writes until it is killed.
const killChildEnv = "PHYTOSCREEN_STORE_KILL_CHILD"

// TestKillChild is the child side of TestKilledProcessLosesAtMostOneSecond: it writes
// objects as a screening run does (a batch every few milliseconds) and prints each
// object's sequence number and the time it was handed to the store, until killed.
func TestKillChild(t *testing.T) {
	path := os.Getenv(killChildEnv)
	if path == "" {
		t.Skip("child process of TestKilledProcessLosesAtMostOneSecond")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.StartRun(context.Background(), screening.RunInfo{Sample: testSample(), Spec: capture.Camera("0"), Model: inference.Optimised, Threshold: 0.5, Taxonomy: testTaxonomy(t)})
	if err != nil {
		t.Fatal(err)
	}
	crops := realCrops(t)
	labels := []string{"protist_noctiluca", "copepod_calanoid", "trichodesmium_puff"}
	out := bufio.NewWriter(os.Stdout)
	deadline := time.Now().Add(30 * time.Second) // never outlive a parent that died
	for seq := 1; time.Now().Before(deadline); {
		batch := make([]screening.ObjectRecord, 4)
		for i := range batch {
			batch[i] = record(crops, seq, labels[seq%3], 0.9, "")
			seq++
		}
		if err := r.Objects(batch); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UnixNano()
		for _, b := range batch {
			fmt.Fprintf(out, "obj %d %d\n", b.Seq, now)
		}
		out.Flush()
		time.Sleep(4 * time.Millisecond)
	}
}

// A process killed with SIGKILL in the middle of a run loses at most the last second of
// objects handed to the store; the file reopens, passes SQLite's integrity check, and
// exports.
func TestKilledProcessLosesAtMostOneSecond(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		t.Skip("in the child")
	}
	db := filepath.Join(t.TempDir(), "sessions.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.v")
	cmd.Env = append(os.Environ(), killChildEnv+"="+db)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	handed := map[int]time.Time{} // seq -> when the child handed it to the store
	lines := make(chan [2]int64, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "obj" {
				seq, _ := strconv.ParseInt(f[1], 10, 64)
				ns, _ := strconv.ParseInt(f[2], 10, 64)
				lines <- [2]int64{seq, ns}
			}
		}
	}()
	var first time.Time
	var killed time.Time
	timeout := time.After(60 * time.Second)
	for killed.IsZero() {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the child stopped before it was killed")
			}
			at := time.Unix(0, l[1])
			handed[int(l[0])] = at
			if first.IsZero() {
				first = at
			}
			if at.Sub(first) > 2500*time.Millisecond { // mid-run: 2.5 s of objects handed over
				killed = time.Now()
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
		case <-timeout:
			cmd.Process.Kill()
			t.Fatal("the child wrote nothing for 60 s")
		}
	}
	for l := range lines { // what the child printed before it died
		handed[int(l[0])] = time.Unix(0, l[1])
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL", err)
	}

	s, err := Open(db)
	if err != nil {
		t.Fatalf("the store does not reopen after the kill: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	si, err := s.Sample(ctx, testSample().ID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int]bool{}
	if err := s.Objects(ctx, si, false, func(o ObjectRow) error { stored[o.Seq] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	var oldestLost time.Time
	lost := 0
	for seq, at := range handed {
		if !stored[seq] {
			lost++
			if oldestLost.IsZero() || at.Before(oldestLost) {
				oldestLost = at
			}
		}
	}
	window := time.Duration(0)
	if lost > 0 {
		window = killed.Sub(oldestLost)
	}
	t.Logf("handed %d objects over %.2f s, %d committed, %d lost: the oldest lost was handed over %.0f ms before the kill (flush interval %v)",
		len(handed), killed.Sub(first).Seconds(), len(stored), lost, window.Seconds()*1000, FlushInterval)
	if len(stored) < len(handed)/2 {
		t.Errorf("only %d of %d objects committed", len(stored), len(handed))
	}
	if window > time.Second {
		t.Errorf("objects handed over %v before the kill were lost: more than one second of work", window)
	}
	if si.Runs[0].Status != "interrupted" {
		t.Errorf("run status %q, want interrupted", si.Runs[0].Status)
	}
	for _, f := range []string{FormatCounts, FormatObjects, FormatEcoTaxa} {
		out := filepath.Join(t.TempDir(), "export."+f)
		if err := s.Export(ctx, si.ID, f, out); err != nil {
			t.Errorf("export %s after the kill: %v", f, err)
		}
	}
	c, err := s.Counts(ctx, si.ID)
	if err != nil || c.Objects != len(stored) {
		t.Errorf("counts after the kill: %d objects, %v", c.Objects, err)
	}
}
