package main

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/phytoscreen/phytoscreen/store"
)

func main() {
	ctx := context.Background()
	st, err := store.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer st.Close()
	for _, s := range []struct{ id, label string }{{"POND-closterium", "Closterium"}, {"POND-nitzschia", "Nitzschia"}} {
		si, err := st.Sample(ctx, s.id)
		if err != nil {
			panic(err)
		}
		var rows []store.ObjectRow
		st.Objects(ctx, si, false, func(r store.ObjectRow) error {
			if !r.Oversize && !r.OnBorder {
				rows = append(rows, r)
			}
			return nil
		})
		sort.Slice(rows, func(i, j int) bool { return rows[i].AreaPx > rows[j].AreaPx })
		for _, r := range rows[:min(10, len(rows))] {
			if _, err := st.Relabel(ctx, r.ID, s.label, "Script Reviewer"); err != nil {
				panic(err)
			}
			fmt.Println(s.id, r.ID, r.AreaPx, r.Label)
		}
	}
}
