package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/labserver"
	"github.com/phytoscreen/phytoscreen/labsync"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/report"
	"github.com/phytoscreen/phytoscreen/store"
)

// PasswordEnv holds a lab server role's password for the commands and the app; PGPASSWORD
// and ~/.pgpass work too (libpq's ways, which pgx reads).
const PasswordEnv = "PHYTOSCREEN_LAB_PASSWORD"

// serverFlags are the flags of every command that reaches a lab server.
type serverFlags struct {
	dsn, sslmode, rootcert string
}

func (f *serverFlags) register(fs *flag.FlagSet, what string) {
	fs.StringVar(&f.dsn, "server", "", "lab server: a PostgreSQL connection string without its password, e.g. 'host=lab.example.org dbname=phytoscreen user="+what+"' (the password comes from $"+PasswordEnv+", $PGPASSWORD or ~/.pgpass)")
	fs.StringVar(&f.sslmode, "sslmode", "", "TLS: disable, prefer, require, verify-ca or verify-full (default: as the connection string says, else prefer)")
	fs.StringVar(&f.rootcert, "rootcert", "", "PEM `FILE` of the certificate authority that signed the server's certificate (verify-ca, verify-full)")
}

func (f *serverFlags) config() labserver.Config {
	return labserver.Config{DSN: f.dsn, Password: os.Getenv(PasswordEnv), SSLMode: f.sslmode, RootCert: f.rootcert}
}

// server is the server command: the programme admin's work on the lab server.
func (m *Main) server(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(m.Stdout, "usage: phytoscreen server migrate --server ADMIN_DSN   bring the lab server's tables and roles up to date")
		fmt.Fprintln(m.Stdout, "       phytoscreen server benches --server DSN         list the benches that push to it")
		fmt.Fprintln(m.Stdout, "       phytoscreen server objects --server DSN --bench NAME --sample ID   list a sample's objects and labels")
		fmt.Fprintln(m.Stdout, "       phytoscreen server relabel --server DSN --bench NAME --object N --label L --by WHO   set a label as a reviewer")
		if len(args) == 0 {
			return errUsageShown
		}
		return nil
	}
	switch args[0] {
	case "migrate":
		fs := newFlags("server migrate", "", m.Stderr)
		var sf serverFlags
		sf.register(fs, "admin")
		pos, err := parseArgs(fs, args[1:])
		if err != nil {
			return err
		}
		if err := flagsOnly(pos); err != nil {
			return err
		}
		if sf.dsn == "" {
			fmt.Fprintln(m.Stderr, "phytoscreen server migrate: --server is required (a role that may create tables and roles)")
			return showUsage(fs)
		}
		from, to, err := labserver.Migrate(ctx, sf.config())
		if err != nil {
			return setupError(err)
		}
		if from == to {
			fmt.Fprintf(m.Stdout, "lab server %s is up to date (schema %d)\n", labserver.Redacted(sf.dsn), to)
		} else {
			fmt.Fprintf(m.Stdout, "lab server %s migrated from schema %d to %d\n", labserver.Redacted(sf.dsn), from, to)
		}
		return nil
	case "benches":
		fs := newFlags("server benches", "", m.Stderr)
		var sf serverFlags
		sf.register(fs, "reader")
		pos, err := parseArgs(fs, args[1:])
		if err != nil {
			return err
		}
		if err := flagsOnly(pos); err != nil {
			return err
		}
		if sf.dsn == "" {
			fmt.Fprintln(m.Stderr, "phytoscreen server benches: --server is required")
			return showUsage(fs)
		}
		srv, err := labserver.Open(ctx, sf.config())
		if err != nil {
			return setupError(err)
		}
		defer srv.Close()
		bs, err := srv.Benches(ctx)
		if err != nil {
			return setupError(err)
		}
		fmt.Fprintf(m.Stdout, "%-36s  %-20s  %-16s  %s\n", "bench", "name", "role", "last push")
		for _, b := range bs {
			last := "never"
			if !b.LastPush.IsZero() {
				last = b.LastPush.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(m.Stdout, "%-36s  %-20s  %-16s  %s\n", b.ID, b.Name, b.Role, last)
		}
		return nil
	case "objects", "relabel":
		return m.serverObjects(ctx, args[0], args[1:])
	}
	return usageError("server: unknown subcommand %q: use migrate, benches, objects or relabel", args[0])
}

// serverObjects is server objects (a sample's objects with their labels, as the server
// holds them) and server relabel (a reviewer's label, which the bench takes back at its
// next sync; the later validation wins).
func (m *Main) serverObjects(ctx context.Context, sub string, args []string) error {
	fs := newFlags("server "+sub, "", m.Stderr)
	var sf serverFlags
	sf.register(fs, "taxonomist")
	benchArg := fs.String("bench", "", "the bench: its name or ID (phytoscreen server benches lists them)")
	sample := fs.String("sample", "", "sample `ID` (objects)")
	object := fs.Int64("object", 0, "object `N`, as server objects lists it (relabel)")
	label := fs.String("label", "", "the label to set (relabel)")
	by := fs.String("by", "", "who sets it: the reviewer's name (relabel)")
	newTaxon := fs.Bool("new-taxon", false, "relabel: the label is a taxon of the lab's own, not one the bench's packs name (without it such a label is refused as a likely typo)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := flagsOnly(pos); err != nil {
		return err
	}
	if sub == "relabel" && *object < 0 {
		return usageError("--object %d: give the object's number as server objects lists it (1 or more)", *object)
	}
	if sf.dsn == "" || *benchArg == "" || (sub == "objects" && *sample == "") ||
		(sub == "relabel" && (*object <= 0 || strings.TrimSpace(*label) == "" || strings.TrimSpace(*by) == "")) {
		fmt.Fprintf(m.Stderr, "phytoscreen server %s: --server and --bench are required, with --sample (objects) or --object, --label and --by (relabel)\n", sub)
		return showUsage(fs)
	}
	if sub == "relabel" {
		if err := store.CheckLabel(*label); err != nil {
			return usageError("--label: %v", err)
		}
	}
	srv, err := labserver.Open(ctx, sf.config())
	if err != nil {
		return setupError(err)
	}
	defer srv.Close()
	bs, err := srv.Benches(ctx)
	if err != nil {
		return setupError(err)
	}
	var bench labrec.BenchInfo
	var names, named []string
	for _, b := range bs {
		names = append(names, b.Name)
		if b.Name == *benchArg {
			bench = b
			named = append(named, b.ID)
		}
	}
	if i := slices.IndexFunc(bs, func(b labrec.BenchInfo) bool { return b.ID == *benchArg }); i >= 0 {
		bench, named = bs[i], nil // an ID is never ambiguous
	}
	if len(named) > 1 {
		// Two benches of one name (a server from before names were kept apart): the
		// first was taken, and a relabel went to the other bench's object (helper-63).
		return usageError("--bench %q names %d benches (IDs %s): give the ID of the one you mean (phytoscreen server benches lists them)", *benchArg, len(named), strings.Join(named, ", "))
	}
	if bench.ID == "" {
		return usageError("--bench %q: the server knows no such bench (it knows %s)", *benchArg, strings.Join(names, ", "))
	}
	if sub == "relabel" {
		// A label is the bench's taxon as typed: spaces around it, or another case,
		// would count as a second taxon beside it (helper-40: "Microcystis ").
		*label, *by = strings.TrimSpace(*label), strings.TrimSpace(*by)
		known, err := srv.BenchLabels(ctx, bench.ID)
		if err != nil {
			return setupError(err)
		}
		if genus, ok := genusOf(*label); ok && !slices.Contains(known, *label) {
			// "Oscillatoria spp.", as the WHO rule names it, is the bench's
			// Oscillatoria: made a taxon of its own, it left the rule that names it
			// (helper-70).
			if i := slices.IndexFunc(known, func(k string) bool { return strings.EqualFold(k, genus) }); i >= 0 {
				fmt.Fprintf(m.Stderr, "phytoscreen server relabel: --label %q taken as bench %s's taxon %q\n", *label, bench.Name, known[i])
				*label = known[i]
			}
		}
		if !slices.Contains(known, *label) {
			// The name every report and the app show ("Not a cyanobacterium") is the
			// taxon it names ("Other"): refused, a reviewer reached for --new-taxon and
			// made a taxon of it apart (helper-76).
			byName, err := srv.BenchTaxonNames(ctx, bench.ID)
			if err != nil {
				return setupError(err)
			}
			var labels []string
			for name, ls := range byName {
				if strings.EqualFold(name, *label) {
					labels = append(labels, ls...)
				}
			}
			slices.Sort(labels)
			labels = slices.Compact(labels)
			switch {
			case len(labels) == 1:
				fmt.Fprintf(m.Stderr, "phytoscreen server relabel: --label %q taken as bench %s's taxon %q, which it names so\n", *label, bench.Name, labels[0])
				*label = labels[0]
			case len(labels) > 1:
				return usageError("--label %q names taxa %s of bench %s's packs: give the one you mean", *label, strings.Join(labels, ", "), bench.Name)
			}
		}
		if !slices.Contains(known, *label) {
			for _, k := range known {
				if strings.EqualFold(k, *label) {
					return usageError("--label %q: bench %s names this taxon %q; give it as the bench names it", *label, bench.Name, k)
				}
			}
			if !*newTaxon {
				// A typo would become a taxon of its own, counted apart (helper-63).
				return usageError("--label %q is no taxon of the packs bench %s used: check the spelling, or add --new-taxon to make it a taxon of the lab's own there", *label, bench.Name)
			}
			fmt.Fprintf(m.Stderr, "phytoscreen server relabel: %q is no taxon of the packs bench %s used: it becomes a taxon of the lab's own there\n", *label, bench.Name)
		}
		v := labrec.Validation{Label: *label, By: *by, At: time.Now().UTC()}
		if err := srv.Relabel(ctx, bench.ID, *object, v); errors.Is(err, labserver.ErrNoObject) {
			return usageError("--object %d: %v", *object, err) // a number mistyped is the command's, not the setup's (helper-76: exit 3)
		} else if err != nil {
			return setupError(err)
		}
		fmt.Fprintf(m.Stdout, "object %d of bench %s is now %q (by %s); the bench takes it at its next sync\n", *object, bench.Name, *label, *by)
		return nil
	}
	n := 0
	fmt.Fprintf(m.Stdout, "%8s  %4s  %5s  %-28s  %5s  %s\n", "object", "run", "seq", "label", "prob", "validated")
	err = srv.SampleObjects(ctx, bench.ID, *sample, func(o labrec.Object) error {
		n++
		val := "-"
		if o.Validation != nil {
			val = fmt.Sprintf("%q by %s, %s", o.Validation.Label, o.Validation.By, o.Validation.At.Local().Format("2006-01-02 15:04"))
		}
		label := o.Label
		if o.Unidentified {
			// The model's guess, under the threshold: counted as unidentified, waiting
			// for review (helper-76 read the guess as the object's label).
			label += " (unidentified)"
		}
		fmt.Fprintf(m.Stdout, "%8d  %4d  %5d  %-28s  %5.2f  %s\n", o.ID, o.RunID, o.Seq, label, o.Prob, val)
		return nil
	})
	if err != nil {
		return setupError(err)
	}
	if n == 0 {
		return usageError("--sample %q: bench %s has pushed no objects of such a sample", *sample, bench.Name)
	}
	return nil
}

// syncCmd is the sync command: one round of the bench's sync, for a bench without the
// app open or a script.
func (m *Main) syncCmd(ctx context.Context, args []string) error {
	fs := newFlags("sync", "", m.Stderr)
	db := fs.String("db", "", "session store `FILE` (default: $XDG_DATA_HOME/phytoscreen/sessions.db)")
	name := fs.String("name", "", "this bench's name in the programme views, kept in the store (\"\" goes back to the host name)")
	status := fs.Bool("status", false, "only say what waits in the outbox; do not connect")
	all := fs.Bool("all", false, "push every sample and run of the store again, not only what changed since the last sync (a new lab server, or one restored from an older backup)")
	var sf serverFlags
	sf.register(fs, "bench_a")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := flagsOnly(pos); err != nil {
		return err
	}
	if sf.dsn == "" && !*status {
		fmt.Fprintln(m.Stderr, "phytoscreen sync: --server is required")
		return showUsage(fs)
	}
	st, err := openStoredToWrite(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	named := false // --name "" is asked for too: it clears the name
	fs.Visit(func(f *flag.Flag) { named = named || f.Name == "name" })
	var before string // the name kept again when the server refuses the new one
	if named {
		if before, err = st.BenchName(ctx); err != nil {
			return setupError(err)
		}
		if err := st.SetBenchName(ctx, *name); err != nil {
			return usageError("--name: %v", err)
		}
	}
	bench, err := st.BenchID(ctx)
	if err != nil {
		return setupError(err)
	}
	st.SetCellsOf(app.PackCells())       // the server's tallies as History counts them
	st.SetStandingOf(app.PackStanding()) // and where each sample stands, as History says it
	if *all && !*status {
		n, err := st.RequeueAll(ctx)
		if err != nil {
			return setupError(err)
		}
		fmt.Fprintf(m.Stderr, "phytoscreen sync: --all: %s queued again\n", count(n, "entry", "entries"))
	}
	ob, err := st.OutboxState(ctx)
	if err != nil {
		return setupError(err)
	}
	if *status {
		fmt.Fprintf(m.Stdout, "bench %s: %d waiting in the outbox%s\n", bench, ob.Pending, oldestText(ob))
		return nil
	}
	benchName, err := st.BenchName(ctx)
	if err != nil {
		return setupError(err)
	}
	cfg := sf.config()
	sy, err := labsync.New(st, labsync.Options{BenchName: benchName, Dial: func(ctx context.Context) (labsync.Server, error) {
		return labserver.Open(ctx, cfg)
	}})
	if err != nil {
		return setupError(err)
	}
	defer sy.Close() // the connection pool, before the store closes
	start := time.Now()
	res, err := sy.Once(ctx)
	if named && errors.Is(err, labrec.ErrNameTaken) {
		if rerr := st.SetBenchName(ctx, before); rerr != nil {
			return setupError(errors.Join(err, rerr))
		}
		return usageError("--name %q: %v; this bench keeps its name %q", *name, err, before)
	}
	if err != nil {
		return setupError(fmt.Errorf("%w (nothing is lost: %d entries wait in the outbox of %s; run phytoscreen sync again once the cause above is fixed, or the server is back)", err, ob.Pending, st.Path()))
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(m.Stdout, "bench %s → %s: pushed %d entries (%d objects, %.0f objects/s), applied %d labels set elsewhere; %d waiting",
		bench, labserver.Redacted(sf.dsn), res.Pushed, res.Objects, float64(res.Objects)/max(secs, 1e-3), res.Pulled, res.Pending)
	if res.Stuck > 0 {
		fmt.Fprintf(m.Stdout, " (%d refused by the server: see the log above)", res.Stuck)
	}
	fmt.Fprintln(m.Stdout)
	if res.Stuck > 0 {
		return errSomeFailed
	}
	return nil
}

func oldestText(ob labrec.OutboxState) string {
	if ob.Pending == 0 {
		return ""
	}
	return ", the oldest since " + ob.Oldest.Local().Format("2006-01-02 15:04:05")
}

// weekReport is report --server: the programme's weekly report from the lab server.
func (m *Main) weekReport(ctx context.Context, sf serverFlags, week string, zone *time.Location, out string) error {
	wk, err := labrec.ParseWeek(week)
	if err != nil {
		return usageError("--week: %v", err)
	}
	// As the sample's report: "-" is standard output, and the PDF never replaces a
	// frame, a store or a file named as another kind (it overwrote a bench's session
	// store, helper-76).
	toStdout := out == "-"
	if !toStdout {
		if err := capture.CheckOutputName(out); err != nil {
			return usageError("--out %v", err)
		}
		if err := outfile.CheckKind(out, "a PDF report", ".pdf"); err != nil {
			return usageError("--out %v", err)
		}
	}
	srv, err := labserver.Open(ctx, sf.config())
	if err != nil {
		return setupError(err)
	}
	defer srv.Close()
	wr, err := srv.WeekReport(ctx, wk, zone)
	if err != nil {
		return setupError(err)
	}
	wr.Made = time.Now().In(zone)
	said, where := m.Stdout, out
	if toStdout {
		said, where = m.Stderr, "standard output"
		err = report.WriteWeekPDF(m.Stdout, wr, app.Version)
	} else {
		err = outfile.Write(out, func(w io.Writer) error { return report.WriteWeekPDF(w, wr, app.Version) })
	}
	if err != nil {
		return outputError(err)
	}
	// The benches registered, not those that sent this week's samples: "0 samples from 2
	// benches" read oddly (helper-63).
	fmt.Fprintf(said, "wrote the programme report of week %s (%s, %s; %s registered) to %s\n", wk, count(len(wr.Samples), "sample", "samples"), count(len(wr.Alerts), "alert", "alerts"), count(len(wr.Benches), "bench", "benches"), where)
	return nil
}

// genusOf is the genus of a label written as a regulation writes a genus ("Oscillatoria
// spp.", "Microcystis sp."), and whether it was so written.
func genusOf(label string) (string, bool) {
	f := strings.Fields(label)
	if len(f) != 2 {
		return "", false
	}
	switch strings.ToLower(strings.TrimSuffix(f[1], ".")) {
	case "spp", "sp":
		return f[0], true
	}
	return "", false
}
