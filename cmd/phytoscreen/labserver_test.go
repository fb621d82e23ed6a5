package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/pgtest"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/store"
)

// A programme from the command line, against a real PostgreSQL: the admin migrates the
// server (once; again is a no-op), a bench screens a sample and syncs it (the password
// from PHYTOSCREEN_LAB_PASSWORD; a second sync pushes nothing), the server lists the
// bench, and the weekly report shows its sample. A server that is down is reported with
// what waits in the outbox; a bad week is a usage error.
func TestProgrammeCommands(t *testing.T) {
	c := pgtest.Start(t)
	c.CreateDatabase(t, "programme")
	admin := c.AdminDSN("programme")
	code, stdout, stderr := run(t, "server", "migrate", "--server", admin)
	if code != exitOK || !strings.Contains(stdout, "migrated from schema 0 to 3") {
		t.Fatalf("server migrate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, _ := run(t, "server", "migrate", "--server", admin); code != exitOK || !strings.Contains(stdout, "is up to date (schema 3)") {
		t.Errorf("second migrate: exit %d, %s", code, stdout)
	}
	// The admin connects as every role does: --sslmode and --rootcert are honoured (a
	// missing CA file is refused, not silently skipped), and over TCP the password comes
	// from PHYTOSCREEN_LAB_PASSWORD.
	if code, _, stderr := run(t, "server", "migrate", "--server", admin, "--sslmode", "verify-full", "--rootcert", filepath.Join(t.TempDir(), "no-ca.pem")); code == exitOK || !strings.Contains(stderr, "root certificate") {
		t.Errorf("migrate with a missing --rootcert: exit %d, %s", code, stderr)
	}
	c.Exec(t, "programme", "CREATE ROLE prog_admin LOGIN SUPERUSER PASSWORD 'admin pw'")
	overTCP := "host=127.0.0.1 port=" + strconv.Itoa(c.Port()) + " dbname=programme user=prog_admin"
	t.Setenv(PasswordEnv, "admin pw")
	if code, stdout, stderr := run(t, "server", "migrate", "--server", overTCP, "--sslmode", "disable"); code != exitOK || !strings.Contains(stdout, "is up to date (schema 3)") {
		t.Errorf("migrate over TCP with the password from $%s: exit %d, %s %s", PasswordEnv, code, stdout, stderr)
	}
	t.Setenv(PasswordEnv, "")
	c.Exec(t, "programme", "CREATE ROLE bench_a LOGIN PASSWORD 'bench a pw' IN ROLE phytoscreen_bench")
	c.Exec(t, "programme", "CREATE ROLE reader LOGIN PASSWORD 'reader pw' IN ROLE phytoscreen_reader")

	dir := t.TempDir()
	for _, name := range []string{"good acantharia.jpg", "nöctiluca ünïcode.jpg"} {
		data, err := os.ReadFile(filepath.Join("../../testdata/mixed-images", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "s.db")
	taken := time.Now().UTC().Truncate(time.Minute)
	if code, stdout, stderr := run(t, "screen", "--source", "cells:"+dir, "--sample", "OB-1 'Nord'", "--site", "Loch Creran",
		"--taken", taken.Format(time.RFC3339), "--db", db, "--baseline", "0"); code != exitOK {
		t.Fatalf("screen: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, _ := run(t, "sync", "--db", db, "--status"); code != exitOK || !strings.Contains(stdout, " waiting in the outbox") || strings.Contains(stdout, ": 0 waiting") {
		t.Errorf("sync --status: exit %d, %s", code, stdout)
	}
	host := func(user string) string {
		return "host=127.0.0.1 port=" + strconv.Itoa(c.Port()) + " dbname=programme sslmode=disable user=" + user
	}
	t.Setenv(PasswordEnv, "bench a pw")
	code, stdout, stderr = run(t, "sync", "--db", db, "--server", host("bench_a"), "--name", "Oban bench")
	if code != exitOK || !strings.Contains(stdout, "(2 objects") || !strings.HasSuffix(strings.TrimSpace(stdout), "0 waiting") {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, _ := run(t, "sync", "--db", db, "--server", host("bench_a")); code != exitOK || !strings.Contains(stdout, "pushed 0 entries") {
		t.Errorf("a second sync: exit %d, %s", code, stdout)
	}
	// --all pushes the whole store again (a new server, or one restored from a backup,
	// lacks what was pushed before: helper-63), and the server takes its runs as the same.
	if code, stdout, stderr := run(t, "sync", "--db", db, "--server", host("bench_a"), "--all"); code != exitOK || !strings.Contains(stdout, "pushed 2 entries (2 objects") ||
		!strings.Contains(stderr, "--all: 2 entries queued again") {
		t.Errorf("sync --all: exit %d\n%s\n%s", code, stdout, stderr)
	}
	t.Setenv(PasswordEnv, "reader pw")
	if code, stdout, stderr := run(t, "server", "benches", "--server", host("reader")); code != exitOK || !strings.Contains(stdout, "Oban bench") || !strings.Contains(stdout, "bench_a") {
		t.Errorf("server benches: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A taxonomist relabels an object on the server; the bench takes it at its next sync.
	c.Exec(t, "programme", "CREATE ROLE taxonomist LOGIN PASSWORD 'tax pw' IN ROLE phytoscreen_reviewer")
	t.Setenv(PasswordEnv, "tax pw")
	code, stdout, stderr = run(t, "server", "objects", "--server", host("taxonomist"), "--bench", "Oban bench", "--sample", "OB-1 'Nord'")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != exitOK || len(lines) != 3 {
		t.Fatalf("server objects: exit %d\n%s\n%s", code, stdout, stderr)
	}
	object := strings.Fields(lines[1])[0]
	// A label no pack of the bench names is refused unless said to be new: a typo would
	// become a taxon of its own (helper-63: exit 0).
	code, stdout, stderr = run(t, "server", "relabel", "--server", host("taxonomist"), "--bench", "Oban bench", "--object", object,
		"--label", "Dinophysis 'acuminata'", "--by", "Dr. Ana Núñez")
	if code != exitUsage || !strings.Contains(stderr, "add --new-taxon") {
		t.Errorf("server relabel to a taxon no pack of the bench knows, without --new-taxon: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, stderr := run(t, "server", "relabel", "--server", host("taxonomist"), "--bench", "Oban bench", "--object", "-1", "--label", "x", "--by", "y"); code != exitUsage || !strings.Contains(stderr, "--object -1: give the object's number") {
		t.Errorf("relabel --object -1: exit %d, %s", code, stderr)
	}
	if code, _, stderr := run(t, "server", "relabel", "--server", host("taxonomist"), "--bench", "Oban bench", "--object", "9999", "--label", "noctiluca", "--by", "y"); code != exitUsage || !strings.Contains(stderr, "--object 9999: ") || !strings.Contains(stderr, "no such object") {
		t.Errorf("relabel --object 9999 (none such): exit %d, %s; want a usage error", code, stderr)
	}
	// A genus written as a rule writes it ("Oscillatoria spp.") is the bench's taxon of
	// that genus: made a taxon of its own, it left the rule that names it (helper-70).
	genus := strings.Fields(lines[1])[3]
	if code, stdout, stderr := run(t, "server", "relabel", "--server", host("taxonomist"), "--bench", "Oban bench", "--object", object,
		"--label", genus+" spp.", "--by", "Dr. Ana Núñez"); code != exitOK || !strings.Contains(stderr, fmt.Sprintf("taken as bench Oban bench's taxon %q", genus)) ||
		!strings.Contains(stdout, fmt.Sprintf("is now %q", genus)) {
		t.Errorf("relabel to %q: exit %d\n%s\n%s", genus+" spp.", code, stdout, stderr)
	}
	// The name the reports and the app show is the taxon it names (helper-76: "Not a
	// cyanobacterium" was refused, and --new-taxon would have made a taxon of it).
	if code, stdout, stderr := run(t, "server", "relabel", "--server", host("taxonomist"), "--bench", "Oban bench", "--object", object,
		"--label", "noctiluca", "--by", "Dr. Ana Núñez"); code != exitOK || !strings.Contains(stderr, `--label "noctiluca" taken as bench Oban bench's taxon "protist_noctiluca", which it names so`) ||
		!strings.Contains(stdout, `is now "protist_noctiluca"`) {
		t.Errorf("relabel to the display name Noctiluca: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "server", "relabel", "--server", host("taxonomist"), "--bench", "Oban bench", "--object", object,
		"--label", "Dinophysis 'acuminata'", "--by", "Dr. Ana Núñez", "--new-taxon")
	if code != exitOK || !strings.Contains(stdout, "the bench takes it at its next sync") {
		t.Fatalf("server relabel: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "becomes a taxon of the lab's own") {
		t.Errorf("server relabel to a taxon no pack of the bench knows said nothing of it:\n%s", stderr)
	}
	// The bench's own taxon in another case, with spaces, would count as a second one.
	known := strings.Fields(lines[1])[3]
	if code, _, stderr := run(t, "server", "relabel", "--server", host("taxonomist"), "--bench", "Oban bench", "--object", object,
		"--label", " "+strings.ToUpper(known)+" ", "--by", "Dr. Ana Núñez"); code != exitUsage || !strings.Contains(stderr, fmt.Sprintf("names this taxon %q", known)) {
		t.Errorf("relabel to %q in capitals: exit %d, %s", known, code, stderr)
	}
	if code, _, stderr := run(t, "server", "relabel", "--server", host("taxonomist"), "--bench", "No such bench", "--object", object, "--label", "x", "--by", "y"); code != exitUsage || !strings.Contains(stderr, "it knows Oban bench") {
		t.Errorf("relabel on an unknown bench: exit %d, %s", code, stderr)
	}
	t.Setenv(PasswordEnv, "bench a pw")
	// The recount the label brings is pushed in the same sync: it waited for the next
	// (helper-70: "applied 3 labels set elsewhere; 1 waiting").
	if code, stdout, stderr := run(t, "sync", "--db", db, "--server", host("bench_a")); code != exitOK || !strings.Contains(stdout, "applied 1 labels set elsewhere") ||
		!strings.HasSuffix(strings.TrimSpace(stdout), "; 0 waiting") {
		t.Errorf("sync after the relabel: exit %d\n%s\n%s", code, stdout, stderr)
	}
	csvPath := filepath.Join(t.TempDir(), "o.csv")
	if code, _, stderr := run(t, "export", "--db", db, "--sample", "OB-1 'Nord'", "--format", "objects", "--out", csvPath); code != exitOK {
		t.Fatalf("export: exit %d, %s", code, stderr)
	}
	if data, err := os.ReadFile(csvPath); err != nil || !strings.Contains(string(data), "Dinophysis 'acuminata'") || !strings.Contains(string(data), "Dr. Ana Núñez") {
		t.Errorf("the bench's objects do not carry the taxonomist's label (%v):\n%s", err, data)
	}

	t.Setenv(PasswordEnv, "reader pw")
	out := filepath.Join(t.TempDir(), "week.pdf")
	week := labrec.WeekOf(taken.In(localZone)).String() // the report's weeks are this machine's
	code, stdout, stderr = run(t, "report", "--server", host("reader"), "--week", week, "--out", out)
	if code != exitOK || !strings.Contains(stdout, "(1 sample, ") || !strings.Contains(stdout, "; 1 bench registered)") {
		t.Fatalf("report --server: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if text := pdfText(t, out); !strings.Contains(text, "OB-1 'Nord'") || !strings.Contains(text, "Loch Creran") {
		t.Errorf("the weekly report lacks the sample:\n%s", text)
	}
	// --tz: the programme's weeks run from Monday 00:00 in its zone, which the heading
	// names; its times are shown there (helper-89: cut and shown in UTC).
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	tokyoWeek := labrec.WeekOf(taken.In(tokyo))
	code, stdout, stderr = run(t, "report", "--server", host("reader"), "--week", tokyoWeek.String(), "--tz", "Asia/Tokyo", "--out", out)
	if code != exitOK || !strings.Contains(stdout, "(1 sample, ") {
		t.Fatalf("report --tz Asia/Tokyo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if text := pdfText(t, out); !strings.Contains(text, ", Asia/Tokyo") || !strings.Contains(text, "Taken (JST)") || !strings.Contains(text, taken.In(tokyo).Format("Mon 02 15:04")) {
		t.Errorf("the weekly report --tz Asia/Tokyo does not show its zone and the time taken there (%s):\n%s", taken.In(tokyo).Format("Mon 02 15:04"), text)
	}
	if code, _, stderr := run(t, "report", "--server", host("reader"), "--week", "2026-48", "--out", out); code != exitUsage || !strings.Contains(stderr, "YEAR-Wnn") {
		t.Errorf("a bad week: exit %d, %s", code, stderr)
	}
	// The weekly PDF never replaces the bench's store, whatever it is named, a frame or a
	// file named as another kind; "-" is standard output (it overwrote the store and
	// wrote a file named "-", helper-76).
	storeCopy := filepath.Join(t.TempDir(), "bench-a")
	if data, err := os.ReadFile(db); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(storeCopy, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ out, want string }{
		{storeCopy, "is an SQLite database (a session store?)"},
		{db, "is an SQLite database (a session store?)"},
		{filepath.Join(t.TempDir(), "frame.jpg"), "is named as a frame"},
		{filepath.Join(t.TempDir(), "week.csv"), "is named as a CSV table"},
	} {
		before, _ := os.ReadFile(c.out)
		code, _, stderr := run(t, "report", "--server", host("reader"), "--week", week, "--out", c.out)
		after, _ := os.ReadFile(c.out)
		if code != exitUsage || !strings.Contains(stderr, c.want) || !bytes.Equal(before, after) {
			t.Errorf("--out %s: exit %d, %s; want refused (%q), the file as it was", c.out, code, stderr, c.want)
		}
	}
	code, stdout, stderr = run(t, "report", "--server", host("reader"), "--week", week, "--out", "-")
	if code != exitOK || !strings.HasPrefix(stdout, "%PDF-") || !strings.Contains(stderr, "to standard output") {
		t.Errorf("--out -: exit %d, stdout %.20q, stderr %s", code, stdout, stderr)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error("--out - wrote a file named \"-\"")
		os.Remove("-")
	}

	// The server goes away: the sync says so and that nothing is lost.
	if code, stdout, stderr := run(t, "screen", "--source", "cells:"+dir, "--sample", "OB-2", "--db", db, "--baseline", "0"); code != exitOK {
		t.Fatalf("screen: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A name the server refuses (another bench has it) is not kept: it was, and every
	// later sync failed until another was given (helper-70).
	c.Exec(t, "programme", "CREATE ROLE bench_b LOGIN PASSWORD 'bench b pw' IN ROLE phytoscreen_bench")
	db2 := filepath.Join(t.TempDir(), "b.db")
	st2, err := store.Open(db2)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := st2.BenchName(context.Background())
	st2.Close()
	t.Setenv(PasswordEnv, "bench b pw")
	if code, stdout, stderr := run(t, "sync", "--db", db2, "--server", host("bench_b"), "--name", "Oban bench"); code != exitUsage ||
		!strings.Contains(stderr, "another bench has that name") || !strings.Contains(stderr, fmt.Sprintf("this bench keeps its name %q", before)) {
		t.Errorf("sync --name of another bench: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// In another case too: two benches told apart by case alone (helper-71).
	if code, stdout, stderr := run(t, "sync", "--db", db2, "--server", host("bench_b"), "--name", "OBAN BENCH"); code != exitUsage || !strings.Contains(stderr, "another bench has that name") {
		t.Errorf("sync --name of another bench in capitals: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := run(t, "sync", "--db", db2, "--server", host("bench_b")); code != exitOK {
		t.Errorf("a sync after the name was refused: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Setenv(PasswordEnv, "bench a pw")
	code, _, stderr = run(t, "sync", "--db", db, "--server", host("bench_a"))
	if code != exitRuntime || !strings.Contains(stderr, "connection refused") || !strings.Contains(stderr, "nothing is lost") {
		t.Errorf("sync with the server down: exit %d, %s", code, stderr)
	}

	// --name '' clears the name (back to the host's); a name the rule refuses is a usage
	// error that changes nothing.
	if code, _, stderr := run(t, "sync", "--db", db, "--status", "--name", strings.Repeat("x", labrec.MaxBenchNameLen+1)); code != exitUsage || !strings.Contains(stderr, "--name") {
		t.Errorf("sync --name too long: exit %d, %s", code, stderr)
	}
	if code, stdout, stderr := run(t, "sync", "--db", db, "--status", "--name", ""); code != exitOK {
		t.Fatalf("sync --status --name '': exit %d\n%s\n%s", code, stdout, stderr)
	}
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hostName, _ := os.Hostname()
	if n, err := st.BenchName(context.Background()); err != nil || (n != hostName && n != "bench") {
		t.Errorf("after --name '' the bench is named %q (%v); want the host name %q", n, err, hostName)
	}
}
