package app

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

// TaxonSkill is how well a pack's model names one taxon on its validation images.
type TaxonSkill struct {
	Label, Name, Group, Unit string
	Measured                 bool // the pack's card has per-taxon figures
	Recall, Precision        float64
	Support                  int // validation images of the taxon
}

// Recognises lists what a pack's model recognises, with its per-taxon recall and
// precision on the validation images when the card has them (format-2 packs), weakest
// first, and says what they were measured on.
func Recognises(p *inference.Pack, tx *screening.Taxonomy, v inference.Variant) ([]TaxonSkill, string, error) {
	var m struct {
		Val map[string]struct {
			N        int `json:"n"`
			PerClass map[string]struct {
				Precision float64 `json:"precision"`
				Recall    float64 `json:"recall"`
				Support   int     `json:"support"`
			} `json:"per_class"`
		} `json:"val"`
		// External: the card's test on another camera's real frames (per label: how
		// many, and the share named right by each model), beside "folder" and "about".
		External map[string]json.RawMessage `json:"external"`
	}
	if len(p.Metrics) > 0 {
		if err := json.Unmarshal(p.Metrics, &m); err != nil {
			return nil, "", fmt.Errorf("pack %s: its card's metrics do not read: %w", p.Name, err)
		}
	}
	val := m.Val[string(v)]
	var out []TaxonSkill
	for _, x := range tx.Taxa {
		s := TaxonSkill{Label: x.Label, Name: x.Name, Group: x.Group, Unit: x.Unit}
		// A label without validation images (a reject class taught afterwards) is not
		// measured, whatever zeros the card holds for it.
		if pc, ok := val.PerClass[x.Label]; ok && pc.Support > 0 {
			s.Measured, s.Recall, s.Precision, s.Support = true, pc.Recall, pc.Precision, pc.Support
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Measured != out[j].Measured {
			return out[i].Measured
		}
		return out[i].Recall < out[j].Recall
	})
	on := "the card has no per-taxon figures for this pack: see its overall accuracy in its card"
	if len(val.PerClass) > 0 {
		on = fmt.Sprintf("measured on %d validation images the model never trained on: %s", val.N, p.Dataset)
	}
	if ext := externalSkill(m.External, v); ext != "" {
		// The validation images are the training data's kind; a cheap camera's frames
		// can be far from them, and the list must not read as this bench's accuracy.
		on += ". On real frames of a low-cost bench camera it never saw (the card's external test) it named " + ext +
			": with such a camera, trust the counts of the group more than the names of the genera"
	}
	return out, on, nil
}

// externalSkill says the card's external test per label ("Microcystis on 15% of 155
// frames"), in label order; empty when the card has none.
func externalSkill(ext map[string]json.RawMessage, v inference.Variant) string {
	var parts []string
	for _, raw := range ext {
		var e map[string]json.RawMessage
		if json.Unmarshal(raw, &e) != nil {
			continue // "folder", "about"
		}
		var label string
		var n int
		var share float64
		if json.Unmarshal(e["label"], &label) != nil || json.Unmarshal(e["n"], &n) != nil || json.Unmarshal(e[string(v)], &share) != nil || n == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s on %.0f%% of %d frames", label, 100*share, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " and ")
}
