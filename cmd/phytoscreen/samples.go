package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/internal/sigfig"
	"github.com/phytoscreen/phytoscreen/labrec"
	"github.com/phytoscreen/phytoscreen/screening"
	"github.com/phytoscreen/phytoscreen/store"
)

// samples lists the stored samples (the IDs export, report and compare need, which only
// History showed) and moves them to the trash and back, or marks them, as History does.
func (m *Main) samples(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "delete", "restore", "mark", "unmark":
			return m.samplesChange(ctx, args[0], args[1:])
		case "list":
			args = args[1:]
		}
	}
	fs := newFlags("samples", "", m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: phytoscreen samples [list] [--db FILE] [--site NAME] [--trash]\n"+
			"       phytoscreen samples delete|restore|mark|unmark [--db FILE] ID...\n\n"+
			"Lists the stored samples, newest first, or moves samples to the trash (restorable for %d days, as in History), restores or marks them.\n\nflags:\n",
			int(store.TrashKeep.Hours()/24))
		fs.PrintDefaults()
	}
	db := fs.String("db", "", "session store `FILE` (default: $XDG_DATA_HOME/phytoscreen/sessions.db)")
	site := fs.String("site", "", "list the samples of this `site` only")
	trash := fs.Bool("trash", false, "list the samples in the trash")
	tsv := fs.Bool("tsv", false, "list as tab-separated values for scripts: a header, then one row a sample (times in RFC 3339 with the local offset, volumes in mL as numbers)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		// The subcommand after flags (samples --db F mark ID): it was refused as an
		// argument of a command that "takes flags only" (helper-66).
		switch verb := pos[0]; verb {
		case "delete", "restore", "mark", "unmark":
			i := slices.Index(args, verb)
			return m.samplesChange(ctx, verb, append(slices.Clone(args[:i]), args[i+1:]...))
		case "list":
			pos = pos[1:]
		default:
			return usageError("samples %s: no such command: use list, delete, restore, mark or unmark (phytoscreen samples -h)", verb)
		}
	}
	if err := flagsOnly(pos); err != nil {
		return err
	}
	st, err := openStoredSamples(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	if *trash {
		items, err := st.TrashedSamples(ctx)
		if err != nil {
			return err
		}
		return writeTrash(m.Stdout, items, *site, *tsv)
	}
	ids, err := st.SampleIDs(ctx)
	if err != nil {
		return err
	}
	var shown []store.SampleInfo
	for _, id := range ids {
		si, err := st.Sample(ctx, id)
		if err != nil {
			return err
		}
		if *site == "" || screening.SameSite(si.Site, *site) {
			shown = append(shown, si)
		}
	}
	// By the date the water was taken, the last first, as History lists them: a sample
	// taken last week and screened today sat above today's (helper-67).
	slices.SortStableFunc(shown, func(a, b store.SampleInfo) int { return b.Taken.Compare(a.Taken) })
	shown = screening.MainThenCompanions(shown, func(si store.SampleInfo) string { return si.ID })
	standing, err := standingsOf(ctx, st, shown)
	if err != nil {
		return err
	}
	if *tsv {
		raised, err := st.RaisedLevels(ctx)
		if err != nil {
			return err
		}
		return writeSamplesTSV(m.Stdout, shown, raised, standing)
	}
	if len(shown) == 0 {
		where := st.Path()
		if *site != "" {
			where = fmt.Sprintf("%s at site %q", where, *site)
		}
		msg := "phytoscreen samples: no samples in " + where
		// "No samples" over a trash that holds some read as all lost (helper-68).
		if trashed, err := st.TrashedSamples(ctx); err == nil && len(trashed) > 0 {
			msg += fmt.Sprintf("; the trash holds %s (phytoscreen samples --trash lists them)", count(len(trashed), "sample", "samples"))
		}
		fmt.Fprintln(m.Stderr, msg)
		return nil
	}
	return writeSamples(m.Stdout, shown, standing)
}

// writeSamples is the list of samples: one line each, what History lists and whether
// its runs examined the whole volume given.
func writeSamples(w io.Writer, samples []store.SampleInfo, standing map[string]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var taken []time.Time
	for _, si := range samples {
		taken = append(taken, si.Taken)
	}
	// The zone in the heading: the list's local times beside --tsv's and a report's
	// said neither which (helper-89).
	fmt.Fprintf(tw, "sample\tsite\ttaken (%s)\truns\texamined\tcounted by\tnote\n", zoneOf(taken))
	for _, si := range samples {
		var note []string
		if si.Partial() {
			note = append(note, fmt.Sprintf("partial: %s of %s mL", volumeText(si.VolumeML), volumeText(si.VolumeGiven())))
		}
		if f := si.Factor; f != 1 && f > 0 {
			// The concentration factor beside the volume: PA-2's "1 mL" did not say the
			// water was concentrated tenfold (helper-91).
			note = append(note, factorNote(f))
		}
		if standing[si.ID] == labrec.NotChecked {
			note = append(note, "alert levels not checked")
		}
		if si.Marked {
			note = append(note, "marked")
		}
		by := dash(strings.TrimSpace(store.RunsSetting(si.Runs, func(r store.RunRow) string { return r.Pack }) + " " + store.RunsSetting(si.Runs, func(r store.RunRow) string { return r.Model })))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s mL\t%s\t%s\n", si.ID, dash(si.Site), localTime(si.Taken), len(si.Runs), volumeText(si.VolumeML), by, strings.Join(note, ", "))
	}
	return tw.Flush()
}

// factorNote says a factor other than 1 in the list: "factor 0.1 (concentrated 10x)",
// "factor 5 (diluted 5x)".
func factorNote(f float64) string {
	how := fmt.Sprintf("diluted %sx", sigfig.Plain(f, 4))
	if f < 1 {
		how = fmt.Sprintf("concentrated %sx", sigfig.Plain(1/f, 4))
	}
	return fmt.Sprintf("factor %s (%s)", sigfig.Plain(f, 6), how)
}

// writeSamplesTSV is the list for scripts: one header, one row a sample, fields that
// hold no tabs or line breaks (a site name's are replaced by spaces), nothing padded.
// The columns after model were added at the end, so that a script's column numbers
// hold: the factor the concentrations are multiplied by (dilution, or 1/concentration),
// the runs' confidence threshold and alert rules ("+" between them when the runs
// differ), the highest level the runs raised while counting (raised,
// store.RaisedLevels; "none"), and where the sample stands now (standing, standingsOf):
// a sample whose rules could not say it is below them raised nothing, and its
// "none" read as all clear where every other output said "not checked" (helper-93).
func writeSamplesTSV(w io.Writer, samples []store.SampleInfo, raised map[string]alerts.Level, standing map[string]string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "sample\tsite\ttaken\truns\texamined_ml\tgiven_ml\tpartial\tmarked\tpack\tmodel\tfactor\tthreshold\trules\tlevel_raised\tstanding")
	for _, si := range samples {
		fmt.Fprintf(bw, "%s\t%s\t%s\t%d\t%s\t%s\t%t\t%t\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", tsvField(si.ID), tsvField(si.Site), rfcTime(si.Taken), len(si.Runs),
			strconv.FormatFloat(si.VolumeML, 'g', -1, 64), strconv.FormatFloat(si.VolumeGiven(), 'g', -1, 64), si.Partial(), si.Marked,
			tsvField(store.RunsSetting(si.Runs, func(r store.RunRow) string { return r.Pack })), tsvField(store.RunsSetting(si.Runs, func(r store.RunRow) string { return r.Model })),
			strconv.FormatFloat(si.Factor, 'g', -1, 64), store.RunsSetting(si.Runs, func(r store.RunRow) string { return strconv.FormatFloat(r.Threshold, 'g', -1, 64) }),
			tsvField(store.RunsSetting(si.Runs, func(r store.RunRow) string { return r.Rules })), raised[si.ID].String(), standing[si.ID])
	}
	return bw.Flush()
}

// standingsOf is where each sample stands against the rules of its last run, on its
// final figures, as the weekly report and the counts CSV judge it (app.PackStanding):
// "none", "watch", "alert" or labrec.NotChecked; absent where its pack or rules are not
// at hand.
func standingsOf(ctx context.Context, st *store.Store, samples []store.SampleInfo) (map[string]string, error) {
	standing := app.PackStanding()
	out := map[string]string{}
	for _, si := range samples {
		c, err := st.Counts(ctx, si.ID)
		if err != nil {
			return nil, err
		}
		if s := standing(c); s != nil {
			out[si.ID] = s.Level
		}
	}
	return out, nil
}

// writeTrash is the list of the trash, with when each sample goes for good.
func writeTrash(w io.Writer, items []store.Trashed, site string, tsv bool) error {
	var kept []store.Trashed
	for _, it := range items {
		if site == "" || screening.SameSite(it.Site, site) {
			kept = append(kept, it)
		}
	}
	if tsv {
		bw := bufio.NewWriter(w)
		fmt.Fprintln(bw, "sample\tsite\tdeleted\tremoved_after")
		for _, it := range kept {
			fmt.Fprintf(bw, "%s\t%s\t%s\t%s\n", tsvField(it.ID), tsvField(it.Site), rfcTime(it.Deleted), rfcTime(it.Deleted.Add(store.TrashKeep)))
		}
		return bw.Flush()
	}
	if len(kept) == 0 {
		_, err := fmt.Fprintln(w, "The trash is empty.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var when []time.Time
	for _, it := range kept {
		when = append(when, it.Deleted, it.Deleted.Add(store.TrashKeep))
	}
	fmt.Fprintf(tw, "sample\tsite\tdeleted (%s)\tremoved for good after (%s)\n", zoneOf(when), zoneOf(when))
	for _, it := range kept {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.ID, dash(it.Site), localTime(it.Deleted), localTime(it.Deleted.Add(store.TrashKeep)))
	}
	return tw.Flush()
}

// tsvField is s without the tabs and line breaks that would break a TSV row.
func tsvField(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// rfcTime is t in RFC 3339 with the local offset (2026-11-30T00:30:00+01:00): the same
// instant as in UTC, on the date a person reads beside it; "" when unknown. In UTC a
// sample taken Monday 00:30 in Berlin read as Sunday's.
func rfcTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(localZone).Format(time.RFC3339)
}

// samplesChange deletes (to the trash), restores, marks or unmarks the samples named.
// Each ID is tried; one that is not in the store is said and the others still change.
func (m *Main) samplesChange(ctx context.Context, verb string, args []string) error {
	fs := newFlags("samples "+verb, "ID...", m.Stderr)
	db := fs.String("db", "", "session store `FILE` (default: $XDG_DATA_HOME/phytoscreen/sessions.db)")
	ids, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	// With the store named: "phytoscreen samples" alone lists the default store's
	// samples, not this one's (helper-83).
	list := "phytoscreen samples"
	if *db != "" {
		list += " --db " + shellQuote(*db)
	}
	if len(ids) == 0 {
		fmt.Fprintf(m.Stderr, "phytoscreen samples %s: name the sample IDs (%s lists them)\n", verb, list)
		return showUsage(fs)
	}
	st, err := openStoredToWrite(*db)
	if err != nil {
		return err
	}
	defer st.Close()
	failed := 0
	for _, id := range ids {
		msg, err := changeSample(ctx, st, verb, id)
		if err != nil {
			failed++
			fix := ""
			if errors.Is(err, store.ErrNoSample) {
				fix = fmt.Sprintf(": check the ID (%s lists them, --trash those in the trash)", list)
			}
			fmt.Fprintf(m.Stderr, "phytoscreen samples %s: %v%s\n", verb, err, fix)
			continue
		}
		fmt.Fprintf(m.Stdout, "sample %s %s\n", id, msg)
	}
	if failed > 0 {
		return errSomeFailed
	}
	return nil
}

// changeSample applies verb to sample id and says what it did. A sample already in the
// state asked is said so and left as it is: a second delete would restart its 30 days.
func changeSample(ctx context.Context, st *store.Store, verb, id string) (string, error) {
	si, err := st.Sample(ctx, id)
	if err != nil {
		return "", err
	}
	inTrash := !si.Deleted.IsZero()
	switch verb {
	case "delete":
		if inTrash {
			return fmt.Sprintf("is already in the trash (since %s %s)", localTime(si.Deleted), zoneOf([]time.Time{si.Deleted})), nil
		}
		return fmt.Sprintf("moved to the trash (phytoscreen samples restore %s brings it back within %d days)", id, int(store.TrashKeep.Hours()/24)), st.DeleteSample(ctx, id)
	case "restore":
		if !inTrash {
			return "is not in the trash: nothing to restore", nil
		}
		return "restored from the trash", st.RestoreSample(ctx, id)
	case "mark", "unmark":
		if si.Marked == (verb == "mark") {
			return "was " + verb + "ed already", nil
		}
		return verb + "ed", st.MarkSample(ctx, id, verb == "mark")
	}
	return "", fmt.Errorf("unknown change %q", verb)
}

// dash is s, or "-" when empty (a column left blank reads as misaligned).
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// localTime is t in local time to the minute, its zone said beside (zoneOf); "-" when
// unknown.
func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(localZone).Format("2006-01-02 15:04")
}
