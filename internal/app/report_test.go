package app

import (
	"testing"

	"github.com/phytoscreen/phytoscreen/store"
)

// A run whose objects two models classified (the model switched while it ran) is said
// so with each model's share; a run of one model, or of no object, is not (helper-40:
// "model base" for a run 162 of whose 740 objects the optimised model classified).
func TestRunModelsSaysASwitch(t *testing.T) {
	runs := []store.RunRow{{ID: 1, Model: "base"}, {ID: 2, Model: "optimised"}, {ID: 3, Model: "base"}}
	got := runModels(runs, map[int64]map[string]int{
		1: {"base": 578, "optimised": 162},
		2: {"optimised": 40},
	})
	if len(got) != 1 || got[1] != "models switched during the run: base 578, optimised 162 of 740 objects" {
		t.Errorf("runModels: %v", got)
	}
}
