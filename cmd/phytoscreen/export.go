package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/phytoscreen/phytoscreen/outfile"
	"github.com/phytoscreen/phytoscreen/store"
)

func (m *Main) export(ctx context.Context, args []string) error {
	fs := newFlags("export", "", m.Stderr)
	db := fs.String("db", "", "session store `FILE` (default: $XDG_DATA_HOME/phytoscreen/sessions.db)")
	sample := fs.String("sample", "", "sample `ID` to export (required)")
	format := fs.String("format", "csv", "csv (counts and concentrations per taxon), objects (one row per object) or ecotaxa (TSV and crops, zipped)")
	out := fs.String("out", "", "output `PATH` (required; written whole or not at all; - for standard output, csv and objects)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := flagsOnly(pos); err != nil {
		return err
	}
	switch {
	case *sample == "", *out == "":
		fmt.Fprintln(m.Stderr, "phytoscreen export: --sample and --out are required")
		return showUsage(fs)
	case *format != store.FormatCounts && *format != store.FormatObjects && *format != store.FormatEcoTaxa:
		fmt.Fprintf(m.Stderr, "phytoscreen export: --format %q: use csv, objects or ecotaxa\n", *format)
		return errUsageShown
	case *format == store.FormatEcoTaxa && *out == "-":
		fmt.Fprintln(m.Stderr, "phytoscreen export: --out -: the EcoTaxa export is a zip of files; give a .zip file name")
		return errUsageShown
	case *format == store.FormatEcoTaxa && !strings.EqualFold(filepath.Ext(*out), ".zip"):
		// The EcoTaxa export is a zip: named .csv, it opened as garbage (helper-39).
		fmt.Fprintf(m.Stderr, "phytoscreen export: --out %s: the EcoTaxa export is a zip (its TSV and crops); name it .zip\n", *out)
		return errUsageShown
	}
	s, err := openStoredSamples(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	// Standard output (--out -): the rows go to a pipe, and what is said of them to
	// stderr (a file named "-" was written instead, helper-56).
	toStdout := *out == "-"
	if toStdout {
		err = app.ExportSample(ctx, s, *sample, *format, "", m.Stdout)
	} else {
		err = app.ExportSample(ctx, s, *sample, *format, *out, nil)
	}
	if err != nil {
		if errors.Is(err, store.ErrNoSample) || errors.Is(err, outfile.ErrIsInput) || errors.Is(err, outfile.ErrWrongKind) {
			return usageError("%v", err)
		}
		return outputError(err)
	}
	c, err := s.Counts(ctx, *sample)
	if err != nil {
		return err
	}
	if !toStdout {
		fmt.Fprintf(m.Stdout, "exported sample %s (%s from %s, %s mL examined) as %s to %s\n",
			*sample, count(c.Objects, "object", "objects"), count(len(c.Sample.Runs), "run", "runs"), volumeText(c.Sample.VolumeML), *format, *out)
	}
	if !c.Sample.Deleted.IsZero() { // exported as asked, but said: it was set aside (helper-41)
		fmt.Fprintf(m.Stderr, "phytoscreen export: note: sample %s is in the trash (deleted %s); restore it if it still counts: phytoscreen samples restore %s (or History › Trash in the app)\n",
			*sample, c.Sample.Deleted.Local().Format("2006-01-02 15:04"), *sample)
	}
	noteStillRunning(m.Stderr, "export", c.Sample)
	return nil
}

// noteStillRunning says that a run of the sample is still recording, so that what was
// written holds what it recorded so far: an export taken mid-run read as a finished
// partial sample, and the report called the run interrupted (helper-68).
func noteStillRunning(w io.Writer, cmd string, si store.SampleInfo) {
	for _, r := range si.Runs {
		if r.Status == store.RunStillRunning {
			fmt.Fprintf(w, "phytoscreen %s: note: sample %s is still being screened (run %d): this holds what it recorded so far, %s mL examined; %s it again when the run ends\n",
				cmd, si.ID, r.ID, volumeText(si.VolumeML), cmd)
		}
	}
}

// openStoredToWrite opens the session store at db (the default one when empty), which
// must exist, to change what it holds.
func openStoredToWrite(db string) (*store.Store, error) { return openStored(db, store.Open) }

// openStoredSamples opens the session store at db (the default one when empty) to read
// samples from: read-only, so exports and reports never write into it and read archives
// on read-only media too (an older phytoscreen's store is brought up to date first
// where it can be written: store.OpenToRead).
func openStoredSamples(db string) (*store.Store, error) { return openStored(db, store.OpenToRead) }

// openStored opens the session store at db (the default one when empty) with open,
// saying what to do when there is none.
func openStored(db string, open func(string) (*store.Store, error)) (*store.Store, error) {
	path := db
	if path == "" {
		var err error
		if path, err = store.DefaultPath(); err != nil {
			return nil, setupError(err)
		}
	}
	if _, err := os.Stat(path); err != nil {
		return nil, setupError(fmt.Errorf("session store %s: %w: screen a sample first, or pass --db FILE", path, err))
	}
	s, err := open(path)
	if err != nil {
		return nil, setupError(err)
	}
	return s, nil
}
