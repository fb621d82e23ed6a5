package screening

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"
	"github.com/phytoscreen/phytoscreen/inference"
)

// Unidentified is the category of a cell whose top probability is below the confidence
// threshold: it is counted under this name and queued for a person to review.
const Unidentified = "unidentified"

// TaxonomyFile is the optional file in a pack folder that names its labels and groups
// them; without it the built-in rules below apply.
const TaxonomyFile = "taxonomy.toml"

// Group is a set of labels counted together, such as a HAB genus seen in several forms.
type Group struct {
	ID   string `toml:"id" json:"id"`
	Name string `toml:"name" json:"name"`
	// HAB marks a harmful-algal-bloom group: the default alert preset has rules for it.
	HAB bool `toml:"hab" json:"hab"`
}

// Taxon is one label of the pack as people read it.
type Taxon struct {
	Index int    `json:"index"` // position in the pack's output
	Label string `json:"label"` // the pack's label, e.g. "protist_noctiluca"
	Name  string `json:"name"`  // display name, e.g. "Noctiluca"
	Group string `json:"group,omitempty"`
	// Unit is what one object of this taxon is: "cell", or "chain" / "colony" /
	// "filament" for taxa the classifier sees as one object made of many cells.
	// Concentrations are then units per litre, which understates cells per litre.
	Unit string `json:"unit"`
	// CellUm is a typical cell size, µm (a coccoid cell's diameter, a filament's or
	// chain's cell length along it), from the pack's taxonomy.toml: with a calibration,
	// the cells of a colony, filament or chain are estimated from its measured area or
	// length with it. CellsPerUnit, when above 0, is a fixed count per unit instead.
	CellUm       float64 `json:"cell_um,omitempty"`
	CellsPerUnit float64 `json:"cells_per_unit,omitempty"`
}

// UnitPlural names several units: "cells", "colonies", "filaments", and for a group of
// mixed units "colonies/filaments".
func UnitPlural(unit string) string {
	parts := strings.Split(unit, "/")
	for i, u := range parts {
		if strings.HasSuffix(u, "y") {
			parts[i] = strings.TrimSuffix(u, "y") + "ies"
		} else if u != "" {
			parts[i] = u + "s"
		}
	}
	return strings.Join(parts, "/")
}

// packing is the share of a colony's area its round cells fill when they lie in one
// plane (hexagonal packing of circles is 0.91; colonies are looser, with mucilage).
const packing = 0.7

// Cells estimates the cells in one object of this taxon: CellsPerUnit when set; else,
// for a multi-cell unit on a calibrated frame with CellUm known, its length over the cell
// length (filament, chain) or its area over a cell's (colony, at the packing share);
// else shapeGuess, the segmenter's estimate from the object's shape alone. At least 1.
func (x Taxon) Cells(shapeGuess, lengthUm, areaUm2 float64) float64 {
	est := shapeGuess
	switch {
	case x.Unit == "" || x.Unit == "cell":
		return 1
	case x.CellsPerUnit > 0:
		est = x.CellsPerUnit
	case x.CellUm > 0 && x.Unit == "colony" && areaUm2 > 0:
		est = math.Round(packing * areaUm2 / (math.Pi / 4 * x.CellUm * x.CellUm))
	case x.CellUm > 0 && x.Unit != "colony" && lengthUm > 0:
		est = math.Round(lengthUm / x.CellUm)
	}
	return math.Max(1, est)
}

// Taxonomy maps a pack's labels to display names and groups.
type Taxonomy struct {
	Pack    string
	Taxa    []Taxon // in the pack's label order
	Groups  []Group
	byLabel map[string]int
}

// Built-in HAB groups, recognised in any pack by label pattern.
var builtinGroups = []struct {
	Group
	match func(label string) bool
	unit  string
}{
	{Group{"noctiluca", "Noctiluca", true}, func(l string) bool { return strings.Contains(l, "noctiluca") }, "cell"},
	{Group{"trichodesmium", "Trichodesmium", true}, func(l string) bool { return strings.HasPrefix(l, "trichodesmium") }, "colony"},
	{Group{"diatom_chains", "Chain-forming diatoms", true}, func(l string) bool { return strings.HasPrefix(l, "diatom_chain") }, "chain"},
}

// displayNames overrides the generic humanised form where it reads badly or where a
// taxon deserves its proper name.
var displayNames = map[string]string{
	"protist_noctiluca":         "Noctiluca",
	"trichodesmium_bowtie":      "Trichodesmium, bowtie colony",
	"trichodesmium_multiple":    "Trichodesmium, several colonies",
	"trichodesmium_puff":        "Trichodesmium, puff colony",
	"trichodesmium_tuft":        "Trichodesmium, tuft colony",
	"diatom_chain_string":       "Diatom chain, string",
	"diatom_chain_tube":         "Diatom chain, tube",
	"artifacts":                 "Artifact",
	"artifacts_edge":            "Artifact at image edge",
	"hydromedusae_h15":          "Hydromedusae H15",
	"radiolarian_chain":         "Radiolarian chain",
	"unknown_unclassified":      "Unknown, unclassified",
	"unknown_blobs_and_smudges": "Unknown blobs and smudges",
	"unknown_sticks":            "Unknown sticks",
}

// DefaultTaxonomy builds the taxonomy of a pack without a taxonomy file: humanised
// display names and the built-in HAB groups (Noctiluca, Trichodesmium, chain-forming
// diatoms) matched by label pattern. Every other label is counted with no group.
func DefaultTaxonomy(pack string, labels []string) *Taxonomy {
	t := &Taxonomy{Pack: pack}
	used := map[string]bool{}
	for i, l := range labels {
		tx := Taxon{Index: i, Label: l, Name: Humanise(l), Unit: "cell"}
		if n, ok := displayNames[l]; ok {
			tx.Name = n
		}
		for _, g := range builtinGroups {
			if g.match(strings.ToLower(l)) {
				tx.Group, tx.Unit = g.ID, g.unit
				used[g.ID] = true
				break
			}
		}
		t.Taxa = append(t.Taxa, tx)
	}
	for _, g := range builtinGroups {
		if used[g.ID] {
			t.Groups = append(t.Groups, g.Group)
		}
	}
	t.index()
	return t
}

// ForPack returns the taxonomy of p: its taxonomy.toml when the pack has one, else
// DefaultTaxonomy.
func ForPack(p *inference.Pack) (*Taxonomy, error) {
	data, err := p.ReadFile(TaxonomyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultTaxonomy(p.Name, p.Labels), nil
	}
	if err != nil {
		return nil, fmt.Errorf("pack %s: read %s: %w", p.Source, TaxonomyFile, err)
	}
	return ParseTaxonomy(data, p.Source+"/"+TaxonomyFile, p.Name, p.Labels)
}

// taxonomyFile is the TOML form:
//
//	[[group]]
//	id = "alexandrium"
//	name = "Alexandrium"
//	hab = true
//
//	[[taxon]]
//	label = "alexandrium_catenella"
//	name = "Alexandrium catenella"
//	group = "alexandrium"
//	unit = "cell"          # cell, chain, colony or filament
//	cell_um = 30           # optional: typical cell size, µm
//	cells_per_unit = 0     # optional: fixed cells per unit (0: estimate from size)
type taxonomyFile struct {
	Group []Group `toml:"group"`
	Taxon []struct {
		Label        string  `toml:"label"`
		Name         string  `toml:"name"`
		Group        string  `toml:"group"`
		Unit         string  `toml:"unit"`
		CellUm       float64 `toml:"cell_um"`
		CellsPerUnit float64 `toml:"cells_per_unit"`
	} `toml:"taxon"`
}

// ParseTaxonomy reads a taxonomy file for a pack with the given labels. Labels the file
// does not mention get the default treatment; entries naming labels the pack lacks or
// groups the file does not declare are errors naming the file and the fix.
func ParseTaxonomy(data []byte, file, pack string, labels []string) (*Taxonomy, error) {
	var f taxonomyFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: fix the TOML syntax", file, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %q: a taxonomy file has [[group]] (id, name, hab) and [[taxon]] (label, name, group, unit, cell_um, cells_per_unit)", file, und[0].String())
	}
	t := DefaultTaxonomy(pack, labels)
	groups := map[string]bool{}
	for _, g := range t.Groups {
		groups[g.ID] = true
	}
	for i, g := range f.Group {
		if g.ID == "" || g.Name == "" {
			return nil, fmt.Errorf("%s: group %d needs both id and name", file, i+1)
		}
		if groups[g.ID] {
			t.Groups = slices.DeleteFunc(t.Groups, func(x Group) bool { return x.ID == g.ID })
		}
		groups[g.ID] = true
		t.Groups = append(t.Groups, g)
	}
	for i, e := range f.Taxon {
		j, ok := t.byLabel[e.Label]
		if !ok {
			return nil, fmt.Errorf("%s: taxon %d names label %q, which pack %s does not have: use one of the labels in its pack.json", file, i+1, e.Label, pack)
		}
		if e.Group != "" && !groups[e.Group] {
			return nil, fmt.Errorf("%s: taxon %q is in group %q, which no [[group]] declares: add the group or fix its id", file, e.Label, e.Group)
		}
		tx := &t.Taxa[j]
		if e.Name != "" {
			tx.Name = e.Name
		}
		if e.Group != "" {
			tx.Group = e.Group
		}
		switch e.Unit {
		case "":
		case "cell", "chain", "colony", "filament":
			tx.Unit = e.Unit
		default:
			return nil, fmt.Errorf("%s: taxon %q has unit %q: use cell, chain, colony or filament", file, e.Label, e.Unit)
		}
		if !(e.CellUm >= 0 && e.CellUm < 10000) || !(e.CellsPerUnit >= 0 && e.CellsPerUnit < 1e6) {
			return nil, fmt.Errorf("%s: taxon %q has cell_um %g, cells_per_unit %g: use sizes in µm from 0 (unknown) up, and a count per unit from 0 (estimate from size) up", file, e.Label, e.CellUm, e.CellsPerUnit)
		}
		tx.CellUm, tx.CellsPerUnit = e.CellUm, e.CellsPerUnit
	}
	return t, nil
}

func (t *Taxonomy) index() {
	t.byLabel = make(map[string]int, len(t.Taxa))
	for i, x := range t.Taxa {
		t.byLabel[x.Label] = i
	}
}

// Lookup returns the taxon with the given label.
func (t *Taxonomy) Lookup(label string) (Taxon, bool) {
	i, ok := t.byLabel[label]
	if !ok {
		return Taxon{}, false
	}
	return t.Taxa[i], true
}

// Name returns the display name of a label, of Unidentified, or the label itself when
// the taxonomy does not know it.
func (t *Taxonomy) Name(label string) string {
	if label == Unidentified {
		return "Unidentified"
	}
	if x, ok := t.Lookup(label); ok {
		return x.Name
	}
	if n, ok := displayNames[label]; ok {
		// A label of another built-in pack (a sample screened with the plankton pack,
		// shown with the cyanobacteria pack loaded): its name, not "artifacts_edge"
		// beside "Artifact at image edge" elsewhere (helper-54).
		return n
	}
	return label
}

// Group returns the group with the given ID.
func (t *Taxonomy) Group(id string) (Group, bool) {
	for _, g := range t.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{}, false
}

// Members returns the labels of a group.
func (t *Taxonomy) Members(group string) []string {
	var out []string
	for _, x := range t.Taxa {
		if x.Group == group {
			out = append(out, x.Label)
		}
	}
	return out
}

// Resolve finds the labels an alert rule's taxon name stands for. It matches, ignoring
// case, spaces, underscores and hyphens: a label ("protist_noctiluca"), a display name
// ("Noctiluca"), a group id or name ("diatom_chains", "Chain-forming diatoms"), and a
// genus written "Genus spp." or "Genus sp." against labels and names that begin with it.
// It reports false when nothing in the pack matches.
func (t *Taxonomy) Resolve(name string) ([]string, bool) {
	key := normName(name)
	if key == "" {
		return nil, false
	}
	for _, g := range t.Groups {
		if normName(g.ID) == key || normName(g.Name) == key {
			return t.Members(g.ID), true
		}
	}
	for _, x := range t.Taxa {
		if normName(x.Label) == key || normName(x.Name) == key {
			return []string{x.Label}, true
		}
	}
	genus, isGenus := strings.CutSuffix(key, "spp")
	if !isGenus {
		genus, isGenus = strings.CutSuffix(key, "sp")
	}
	if !isGenus || genus == "" {
		return nil, false
	}
	var out []string
	for _, x := range t.Taxa {
		if strings.HasPrefix(normName(x.Label), genus) || strings.HasPrefix(normName(x.Name), genus) {
			out = append(out, x.Label)
		}
	}
	return out, len(out) > 0
}

// normName folds a taxon name for matching: lower case, letters and digits only.
func normName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Humanise turns a label such as "copepod_calanoid_frillyAntennae" into a display name
// ("Copepod calanoid frilly antennae"): underscores become spaces, camel case is split,
// and a trailing "other" becomes ", other".
func Humanise(label string) string {
	var words []string
	for _, part := range strings.FieldsFunc(label, func(r rune) bool { return r == '_' || r == ' ' }) {
		words = append(words, splitCamel(part)...)
	}
	if len(words) == 0 {
		return label
	}
	for i, w := range words {
		if len(w) > 1 && w != strings.ToUpper(w) {
			words[i] = strings.ToLower(w) // keep "C" in "type C" and acronyms
		}
	}
	if n := len(words); n > 1 && words[n-1] == "other" {
		words[n-2] += ","
	}
	s := strings.Join(words, " ")
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// splitCamel splits "frillyAntennae" into "frilly", "Antennae" and "typeC" into "type",
// "C"; runs of capitals and digits stay together.
func splitCamel(s string) []string {
	var out []string
	start := 0
	r := []rune(s)
	for i := 1; i < len(r); i++ {
		if unicode.IsUpper(r[i]) && unicode.IsLower(r[i-1]) {
			out = append(out, string(r[start:i]))
			start = i
		}
	}
	return append(out, string(r[start:]))
}
