package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/phytoscreen/phytoscreen/internal/app"
	"github.com/phytoscreen/phytoscreen/store"
)

// compare sets two stored samples side by side (app.CompareSamples): a sample and its
// companion screened with the other model (--keep-apart: S-1 and S-1~base) show what
// the optimised model changes in the counts, object by object, and what it saves.
func (m *Main) compare(ctx context.Context, args []string) error {
	fs := newFlags("compare", "SAMPLE-A SAMPLE-B", m.Stderr)
	db := fs.String("db", "", "session store `FILE` (default: $XDG_DATA_HOME/phytoscreen/sessions.db)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fmt.Fprintln(m.Stderr, "phytoscreen compare: give two sample IDs (phytoscreen compare S-1 S-1~base)")
		return showUsage(fs)
	}
	s, err := openStoredSamples(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := app.CompareSamples(ctx, s, pos[0], pos[1])
	if err != nil {
		if store.IsDamaged(err) {
			return err // said once, as the damage it is (Run)
		}
		fmt.Fprintf(m.Stderr, "phytoscreen compare: %v\n", err)
		if errors.Is(err, store.ErrNoSample) || pos[0] == pos[1] {
			return errUsageShown
		}
		return errSomeFailed
	}
	fmt.Fprint(m.Stdout, c.Text())
	return nil
}
