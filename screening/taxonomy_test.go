package screening

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/alerts"
	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inference"
)

func defaultPack(t testing.TB) *inference.Pack {
	t.Helper()
	p, err := inference.LoadPack(assets.DefaultPack(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultTaxonomyNamesEveryLabel(t *testing.T) {
	p := defaultPack(t)
	tx, err := ForPack(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.Taxa) != 121 || len(p.Labels) != 121 {
		t.Fatalf("%d taxa for %d labels, want 121", len(tx.Taxa), len(p.Labels))
	}
	seen := map[string]string{}
	for i, x := range tx.Taxa {
		if x.Index != i || x.Label != p.Labels[i] {
			t.Fatalf("taxon %d is %+v, want label %q at index %d", i, x, p.Labels[i], i)
		}
		if x.Name == "" || strings.ContainsAny(x.Name, "_") || x.Name[0] < 'A' || x.Name[0] > 'Z' {
			t.Errorf("label %q has display name %q: want a capitalised name without underscores", x.Label, x.Name)
		}
		if other, dup := seen[x.Name]; dup {
			t.Errorf("labels %q and %q share the display name %q", other, x.Label, x.Name)
		}
		seen[x.Name] = x.Label
	}
}

func TestDefaultTaxonomyHABGroups(t *testing.T) {
	tx := DefaultTaxonomy("ndsb", defaultPack(t).Labels)
	want := map[string][]string{
		"noctiluca":     {"protist_noctiluca"},
		"trichodesmium": {"trichodesmium_bowtie", "trichodesmium_multiple", "trichodesmium_puff", "trichodesmium_tuft"},
		"diatom_chains": {"diatom_chain_string", "diatom_chain_tube"},
	}
	if len(tx.Groups) != len(want) {
		t.Fatalf("groups %+v, want the 3 HAB groups", tx.Groups)
	}
	inGroups := 0
	for _, g := range tx.Groups {
		if !g.HAB || !slices.Equal(tx.Members(g.ID), want[g.ID]) {
			t.Errorf("group %+v has members %v, want %v (HAB)", g, tx.Members(g.ID), want[g.ID])
		}
		inGroups += len(tx.Members(g.ID))
	}
	if inGroups != 7 {
		t.Errorf("%d labels in HAB groups, want 7: every other label is counted with no group", inGroups)
	}
	units := map[string]string{"protist_noctiluca": "cell", "trichodesmium_puff": "colony", "diatom_chain_tube": "chain", "copepod_calanoid": "cell"}
	for l, u := range units {
		if x, _ := tx.Lookup(l); x.Unit != u {
			t.Errorf("%s counted as %q, want %q", l, x.Unit, u)
		}
	}
}

func TestHumanise(t *testing.T) {
	cases := map[string]string{
		"copepod_calanoid_frillyAntennae":       "Copepod calanoid frilly antennae",
		"echinoderm_larva_pluteus_typeC":        "Echinoderm larva pluteus type C",
		"hydromedusae_typeD_bell_and_tentacles": "Hydromedusae type D bell and tentacles",
		"protist_other":                         "Protist, other",
		"shrimp-like_other":                     "Shrimp-like, other",
		"echinopluteus":                         "Echinopluteus",
	}
	for in, want := range cases {
		if got := Humanise(in); got != want {
			t.Errorf("Humanise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolve(t *testing.T) {
	tx := DefaultTaxonomy("ndsb", defaultPack(t).Labels)
	cases := []struct {
		name string
		want []string // nil: not in the pack
	}{
		{"protist_noctiluca", []string{"protist_noctiluca"}},
		{"Noctiluca", []string{"protist_noctiluca"}},
		{"noctiluca", []string{"protist_noctiluca"}},
		{"Noctiluca spp.", []string{"protist_noctiluca"}},
		{"Trichodesmium", []string{"trichodesmium_bowtie", "trichodesmium_multiple", "trichodesmium_puff", "trichodesmium_tuft"}},
		{"trichodesmium spp.", []string{"trichodesmium_bowtie", "trichodesmium_multiple", "trichodesmium_puff", "trichodesmium_tuft"}},
		{"Chain-forming diatoms", []string{"diatom_chain_string", "diatom_chain_tube"}},
		{"diatom_chains", []string{"diatom_chain_string", "diatom_chain_tube"}},
		{"Trichodesmium, puff colony", []string{"trichodesmium_puff"}},
		{"Dinophysis acuminata", nil},
		{"Dinophysis spp.", nil},
		{"Alexandrium spp.", nil},
		{"cyanobacteria", nil},
		{"", nil},
	}
	for _, c := range cases {
		got, ok := tx.Resolve(c.name)
		if ok != (c.want != nil) || !slices.Equal(got, c.want) {
			t.Errorf("Resolve(%q) = %v, %v; want %v", c.name, got, ok, c.want)
		}
	}
}

func TestParseTaxonomy(t *testing.T) {
	labels := []string{"alexandrium_catenella", "dinophysis_acuta", "detritus"}
	good := `
[[group]]
id = "alexandrium"
name = "Alexandrium"
hab = true

[[taxon]]
label = "alexandrium_catenella"
name = "Alexandrium catenella"
group = "alexandrium"
`
	tx, err := ParseTaxonomy([]byte(good), "pack/taxonomy.toml", "lab", labels)
	if err != nil {
		t.Fatal(err)
	}
	if x, _ := tx.Lookup("alexandrium_catenella"); x.Name != "Alexandrium catenella" || x.Group != "alexandrium" {
		t.Fatalf("taxon %+v", x)
	}
	if got, ok := tx.Resolve("Alexandrium spp."); !ok || !slices.Equal(got, []string{"alexandrium_catenella"}) {
		t.Fatalf("Resolve(Alexandrium spp.) = %v %v", got, ok)
	}
	if got, ok := tx.Resolve("Dinophysis spp."); !ok || !slices.Equal(got, []string{"dinophysis_acuta"}) {
		t.Fatalf("genus match on labels: %v %v", got, ok)
	}
	bad := []struct{ text, want string }{
		{"[[taxon]]\nlabel = 'nope'\n", `label "nope", which pack lab does not have`},
		{"[[taxon]]\nlabel = 'detritus'\ngroup = 'g'\n", `group "g", which no [[group]] declares`},
		{"[[taxon]]\nlabel = 'detritus'\nunit = 'blob'\n", `unit "blob"`},
		{"[[taxon]]\nlable = 'detritus'\n", `unknown key "taxon.lable"`},
		{"[[taxon]\n", "line 2"},
		{"[[taxon]]\nlabel = 'detritus'\nunit = 'colony'\ncell_um = -3\n", `cell_um -3`},
		{"[[taxon]]\nlabel = 'detritus'\nunit = 'colony'\ncells_per_unit = nan\n", `cells_per_unit NaN`},
	}
	for _, b := range bad {
		_, err := ParseTaxonomy([]byte(b.text), "pack/taxonomy.toml", "lab", labels)
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), "pack/taxonomy.toml") {
			t.Errorf("ParseTaxonomy(%q): error %v, want one naming the file and containing %q", b.text, err, b.want)
		}
	}
}

// The cyanobacteria pack's taxonomy: its genera are colonies and filaments in one HAB
// group, which the WHO preset's rule names ("Cyanobacteria"), so the rule binds to all ten.
func TestCyanoPackTaxonomyBindsWHO(t *testing.T) {
	fsys, ok := assets.BuiltinPack(assets.CyanoPackName)
	if !ok {
		t.Fatalf("no built-in pack %s", assets.CyanoPackName)
	}
	p, err := inference.LoadPack(fsys, "built-in:"+assets.CyanoPackName)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := ForPack(p)
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]string{}
	genera := 0
	for _, x := range tx.Taxa {
		units[x.Label] = x.Unit
		if x.Label == "Other" { // the reject class (training/make_reject.py): in no group, no alert
			if x.Group != "" || x.Name != "Not a cyanobacterium" {
				t.Errorf("reject class %+v: want it named for what it is, in no group", x)
			}
			continue
		}
		genera++
		if x.Group != "cyanobacteria" || !(x.CellUm > 0) {
			t.Errorf("taxon %+v: want group cyanobacteria and a cell size", x)
		}
	}
	if genera != 10 || len(tx.Taxa) != 11 {
		t.Errorf("%d genera among %d taxa: want the ten and the reject class", genera, len(tx.Taxa))
	}
	if units["Microcystis"] != "colony" || units["Planktothrix"] != "filament" {
		t.Errorf("units %v: want Microcystis a colony, Planktothrix a filament", units)
	}
	rs, err := alerts.LoadPreset(assets.Presets(), "who-cyanobacteria")
	if err != nil {
		t.Fatal(err)
	}
	bound, _ := rs.Bind(tx, p.Name)
	if len(bound) != 1 || len(bound[0].Labels) != genera || slices.Contains(bound[0].Labels, "Other") {
		t.Fatalf("WHO preset bound %+v: want its one rule on all %d genera, not on the reject class", bound, genera)
	}
}

// Cells of one object: a cell is one; a fixed count per unit wins; with a calibration a
// filament's length and a colony's area over the cell size; else the shape's guess.
func TestTaxonCells(t *testing.T) {
	fil := Taxon{Unit: "filament", CellUm: 5}
	col := Taxon{Unit: "colony", CellUm: 4}
	for _, c := range []struct {
		name                  string
		x                     Taxon
		guess, lenUm, areaUm2 float64
		want                  float64
	}{
		{"cell", Taxon{Unit: "cell", CellUm: 5}, 7, 100, 100, 1},
		{"fixed per unit", Taxon{Unit: "chain", CellUm: 5, CellsPerUnit: 8}, 3, 100, 0, 8},
		{"filament 100 um of 5 um cells", fil, 3, 100, 0, 20},
		{"filament uncalibrated: shape", fil, 3, 0, 0, 3},
		{"colony 1000 um2 of 4 um cells", col, 3, 0, 1000, math.Round(0.7 * 1000 / (math.Pi / 4 * 16))},
		{"colony uncalibrated, no guess", col, 0, 0, 0, 1},
		{"no cell size: shape", Taxon{Unit: "filament"}, 6, 100, 0, 6},
	} {
		if got := c.x.Cells(c.guess, c.lenUm, c.areaUm2); got != c.want {
			t.Errorf("%s: %v cells, want %v", c.name, got, c.want)
		}
	}
}

// TestCellsUnknownOf: an object of a multi-cell unit with no shape guess, no size and no
// cells per unit had its cells estimated by nothing; a guess, a size, a cells-per-unit or
// a taxon counted in cells makes them known.
func TestCellsUnknownOf(t *testing.T) {
	colony := Taxon{Unit: "colony", CellUm: 5}
	for _, c := range []struct {
		x        Taxon
		noShape  bool
		len, are float64
		want     bool
	}{
		{colony, true, 0, 0, true},
		{colony, false, 0, 0, false},                                // a frame's object
		{colony, true, 0, 400, false},                               // a calibrated area
		{Taxon{Unit: "filament"}, true, 0, 0, true},                 //
		{Taxon{Unit: "colony", CellsPerUnit: 8}, true, 0, 0, false}, // the pack says
		{Taxon{Unit: "cell"}, true, 0, 0, false},
	} {
		if got := CellsUnknownOf(c.x, c.noShape, c.len, c.are); got != c.want {
			t.Errorf("CellsUnknownOf(%+v, %v, %g, %g) = %v, want %v", c.x, c.noShape, c.len, c.are, got, c.want)
		}
	}
}

// CellsEstimated counts the colonies, chains and filaments whose cells were estimated:
// not cells, not those of unknown cells (single-cell images).
func TestCellsEstimated(t *testing.T) {
	taxa := []TaxonCount{
		{Taxon: Taxon{Label: "Microcystis", Unit: "colony"}, Concentration: Concentration{Count: 10}, CellsUnknown: 4},
		{Taxon: Taxon{Label: "Anabaena", Unit: "filament"}, Concentration: Concentration{Count: 3}},
		{Taxon: Taxon{Label: "Other", Unit: "cell"}, Concentration: Concentration{Count: 50}},
		{Taxon: Taxon{Label: "x"}, Concentration: Concentration{Count: 7}},
	}
	if got := CellsEstimated(taxa); got != 9 {
		t.Errorf("CellsEstimated = %d, want 6 colonies and 3 filaments", got)
	}
	taxa[0].CellsUnknown, taxa[1].CellsUnknown = 10, 3
	if got := CellsEstimated(taxa); got != 0 {
		t.Errorf("all of unknown cells: CellsEstimated = %d, want 0", got)
	}
}

// UncheckedRows marks the rows a rule not checked in cells watches, where RowLevels
// would put its level: a one-taxon rule on its taxon, a group's rule on its members
// (their group's row); a rule checked, or reaching a level, marks nothing.
func TestUncheckedRows(t *testing.T) {
	unknown := alerts.Measure{CellsUnknown: 3}
	states := []alerts.State{
		{Rule: "group", Labels: []string{"Microcystis", "Oscillatoria"}, Value: unknown},
		{Rule: "alone", Labels: []string{"Dolichospermum"}, Value: unknown},
		{Rule: "reached", Labels: []string{"Nodularia"}, Level: alerts.Watch, Value: unknown},
		{Rule: "checked", Labels: []string{"Planktothrix"}},
	}
	own, counted := UncheckedRows(states)
	for l, want := range map[string]bool{"Dolichospermum": true, "Microcystis": false, "Nodularia": false, "Planktothrix": false} {
		if own[l] != want {
			t.Errorf("own[%s] = %v, want %v", l, own[l], want)
		}
	}
	for l, want := range map[string]bool{"Microcystis": true, "Oscillatoria": true, "Dolichospermum": true, "Nodularia": false, "Planktothrix": false} {
		if counted[l] != want {
			t.Errorf("counted[%s] = %v, want %v", l, counted[l], want)
		}
	}
}

// A label the loaded pack does not have keeps its built-in display name (a plankton
// sample shown with the cyanobacteria pack loaded); any other stays as given.
func TestNameOfAnotherPacksLabel(t *testing.T) {
	cyano := DefaultTaxonomy("cyano", []string{"Microcystis", "Other"})
	for label, want := range map[string]string{"artifacts_edge": "Artifact at image edge", "Microcystis": "Microcystis", "Karenia brevis": "Karenia brevis", Unidentified: "Unidentified"} {
		if got := cyano.Name(label); got != want {
			t.Errorf("Name(%q) = %q, want %q", label, got, want)
		}
	}
}
