package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/report"
	"github.com/phytoscreen/phytoscreen/store"
)

// pdfReport is the report command: a stored sample's PDF report for the farm manager,
// or (--server, --week) the programme's weekly report from its lab server.
func (m *Main) pdfReport(ctx context.Context, args []string) error {
	fs := newFlags("report", "", m.Stderr)
	db := fs.String("db", "", "session store `FILE` (default: $XDG_DATA_HOME/phytoscreen/sessions.db)")
	sample := fs.String("sample", "", "sample `ID` to report (required for a sample's report)")
	rules := fs.String("rules", "", "compare with these alert rules: a TOML `FILE` or a preset (default: the rules the sample was screened with)")
	out := fs.String("out", "", "PDF `FILE` to write (required; written whole or not at all; - for standard output)")
	week := fs.String("week", "", "with --server: the programme's weekly report of this ISO `WEEK` (e.g. 2026-W48) over every bench")
	tz := fs.String("tz", "", "with --week: the programme's time `ZONE` (e.g. Europe/Berlin): its weeks run from Monday 00:00 there, and the report shows its times there (default: this machine's zone)")
	var sf serverFlags
	sf.register(fs, "reader")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := flagsOnly(pos); err != nil {
		return err
	}
	if sf.dsn != "" || *week != "" || *tz != "" {
		if sf.dsn == "" || *week == "" || *out == "" || *sample != "" || *db != "" {
			fmt.Fprintln(m.Stderr, "phytoscreen report: the weekly programme report takes --server, --week and --out, and --tz if you like (and no --sample or --db)")
			return showUsage(fs)
		}
		zone, err := programmeZone(*tz)
		if err != nil {
			return err
		}
		return m.weekReport(ctx, sf, *week, zone, *out)
	}
	if *sample == "" || *out == "" {
		fmt.Fprintln(m.Stderr, "phytoscreen report: --sample and --out are required")
		return showUsage(fs)
	}
	toStdout := *out == "-" // the PDF to a pipe, what is said of it to stderr (a file named "-" was written, helper-60)
	if !toStdout {
		if err := capture.CheckOutputName(*out); err != nil {
			return usageError("--out %v", err)
		}
	}
	s, err := openStoredSamples(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	if !toStdout {
		if err := outfile.CheckNotInput(*out, outfile.Input{Path: s.Path(), What: outfile.StoreWhat}); err != nil {
			return usageError("--out %v", err)
		}
		if err := outfile.CheckKind(*out, "a PDF report", ".pdf"); err != nil {
			return usageError("--out %v", err)
		}
	}
	d, err := app.ReportData(ctx, s, *sample, *rules, time.Now())
	if errors.Is(err, store.ErrNoSample) {
		return usageError("%v", err)
	}
	if err != nil {
		return setupError(err)
	}
	d.Zone = localZone // its times as screen and samples show them
	if toStdout {
		err = report.WritePDF(m.Stdout, d)
	} else {
		err = outfile.Write(*out, func(w io.Writer) error { return report.WritePDF(w, d) })
	}
	if err != nil {
		return outputError(err)
	}
	standing := levelText(d.Level())
	switch {
	case len(d.Rules) == 0:
		standing = "alerts not checked: no rule applies to its pack"
		if len(d.Apply) > 0 {
			standing += "; --rules " + d.Apply[0] + " has rules for it"
		}
	case standing == "" && len(d.Unchecked()) > 0:
		// "no alert" would read as an all-clear (helper-72).
		standing = "not checked: " + strings.Join(d.Unchecked(), ", ")
	case standing == "":
		standing = "no alert"
	}
	if r := d.ReviewDecides(); len(r) > 0 {
		// "no alert" beside objects that would raise a level wait for review is no
		// all-clear: the review decides.
		standing += "; review decides: " + strings.Join(r, ", ")
	}
	said, where := m.Stdout, *out
	if toStdout {
		said, where = m.Stderr, "standard output"
	}
	fmt.Fprintf(said, "wrote the report of sample %s (%s; %s, %s) to %s\n", *sample, standing, count(d.Counts.Objects, "object", "objects"), count(len(d.Counts.Sample.Runs), "run", "runs"), where)
	noteStillRunning(m.Stderr, "report", d.Counts.Sample)
	return nil
}

// programmeZone is the time zone --tz names, or this machine's when none is named: where
// the weekly report cuts its weeks and shows its times.
func programmeZone(name string) (*time.Location, error) {
	if name == "" {
		return localZone, nil
	}
	// "Local" and "" are Go's names for this machine's zone, not a programme's: a
	// report made elsewhere would cut its weeks elsewhere.
	if strings.EqualFold(name, "local") {
		return nil, usageError("--tz %q: name the programme's zone from the time zone database, e.g. --tz Europe/Berlin (leave --tz out for this machine's zone)", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, usageError("--tz %q is not a time zone of the time zone database: name one as Area/City, e.g. --tz Europe/Berlin, or UTC", name)
	}
	return loc, nil
}
