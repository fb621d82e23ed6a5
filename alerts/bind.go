package alerts

import (
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// Resolver finds the labels of a classifier pack that a taxon or group name stands for.
// screening.Taxonomy implements it.
type Resolver interface {
	Resolve(name string) (labels []string, ok bool)
}

// Bound is a rule tied to the labels of one pack.
type Bound struct {
	Rule   Rule     `json:"rule"`
	Labels []string `json:"labels"`
}

// Notice is something a person should know about a rules file loaded for a pack: a taxon
// the pack cannot recognise, or a threshold that is not a verified regulatory value.
type Notice struct {
	Kind   string `json:"kind"` // NoticeMissingTaxon or NoticeUnverified
	Rule   string `json:"rule"` // the rule's ID
	Where  string `json:"where"`
	Taxon  string `json:"taxon,omitempty"`
	Detail string `json:"detail"`
	Note   string `json:"note,omitempty"` // the rule's note
}

// Kinds of Notice.
const (
	// NoticeMissingTaxon: the pack has no label for a taxon the rule names. When none of
	// the rule's taxa resolve, the rule can never fire with this pack.
	NoticeMissingTaxon = "missing-taxon"
	// NoticeUnverified: the rule's threshold is not a verified regulatory value.
	NoticeUnverified = "unverified"
)

// String is the notice as a warning line.
func (n Notice) String() string { return n.Where + ": " + n.Detail }

// Bind ties each rule to the labels of a pack. Rules whose taxa are all unknown to the
// pack are left out of bound and reported; so are unknown taxa of rules that keep others,
// and unverified thresholds. Nothing here is an error: presets name many taxa a
// zooplankton pack lacks, and that must be visible, not fatal.
func (rs *Ruleset) Bind(r Resolver, pack string) (bound []Bound, notices []Notice) {
	for _, rule := range rs.Rules {
		var labels, missing []string
		for _, name := range rule.Taxa {
			ls, ok := r.Resolve(name)
			if !ok {
				missing = append(missing, name)
				continue
			}
			for _, l := range ls {
				if !slices.Contains(labels, l) {
					labels = append(labels, l)
				}
			}
		}
		if len(missing) > 0 {
			quoted := make([]string, len(missing))
			for i, m := range missing {
				quoted[i] = fmt.Sprintf("%q", m) // each name quoted: "A", "B" (not "A\", \"B")
			}
			what := fmt.Sprintf("taxon %s is not in pack %s", quoted[0], pack)
			if len(missing) > 1 {
				what = fmt.Sprintf("taxa %s are not in pack %s", strings.Join(quoted, ", "), pack)
			}
			detail := what + ": this rule cannot fire with it; screen with a pack trained on these taxa"
			if len(labels) > 0 {
				detail = what + fmt.Sprintf(": the rule counts only %s", strings.Join(labels, ", "))
			}
			notices = append(notices, Notice{Kind: NoticeMissingTaxon, Rule: rule.ID, Where: rule.Where(), Taxon: strings.Join(missing, ", "), Detail: detail})
		}
		if len(labels) == 0 {
			continue
		}
		if !rule.Verified {
			d := "threshold for " + rule.Name() + " is not a verified regulatory value"
			if rule.Note != "" {
				d += " (" + rule.Note + ")"
			}
			notices = append(notices, Notice{Kind: NoticeUnverified, Rule: rule.ID, Where: rule.Where(), Taxon: rule.Name(), Detail: d + "; check it against your authority", Note: rule.Note})
		}
		bound = append(bound, Bound{Rule: rule, Labels: labels})
	}
	return bound, notices
}

// Binding is a ruleset tied to one pack: the rules that can fire, with what a person
// should know about the others. A screening run watches its Bound rules.
type Binding struct {
	Ruleset *Ruleset
	Name    string // "preset default" or the rules file's path
	Bound   []Bound
	Notices []Notice
	// Apply names other presets that have rules for this pack, offered when none of
	// this one's rules can fire (filled by the caller, which knows the presets).
	Apply []string
}

// BindTo ties rs to a pack (see Bind); name says where the rules came from.
func (rs *Ruleset) BindTo(r Resolver, pack, name string) Binding {
	bound, notices := rs.Bind(r, pack)
	return Binding{Ruleset: rs, Name: name, Bound: bound, Notices: notices}
}

// noticesText is "1 notice" or "N notices".
func noticesText(n int) string {
	if n == 1 {
		return "1 notice"
	}
	return fmt.Sprintf("%d notices", n)
}

// Hysteresis is the clearing margin of the rules (DefaultHysteresis without rules).
func (b Binding) Hysteresis() float64 {
	if b.Ruleset == nil || b.Ruleset.Hysteresis == 0 {
		return DefaultHysteresis
	}
	return b.Ruleset.Hysteresis
}

// CannotSee lists the taxa the rules watch for that the pack cannot recognise, in the
// rules' order: a sample screened with this pack says nothing about them.
func (b Binding) CannotSee() []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range b.Notices {
		if n.Kind == NoticeMissingTaxon && !seen[n.Taxon] {
			seen[n.Taxon] = true
			out = append(out, n.Taxon)
		}
	}
	return out
}

// Watching describes the rules in words for a banner when nothing is raised.
func (b Binding) Watching() string {
	if len(b.Bound) == 0 {
		if len(b.Notices) > 0 {
			if len(b.Apply) > 0 {
				return fmt.Sprintf("No rule of %s can fire with this classifier pack (%s): choose preset %s in Settings › Alerts.", b.Name, noticesText(len(b.Notices)), strings.Join(b.Apply, " or "))
			}
			return fmt.Sprintf("No rule of %s can fire with this classifier pack (%s): see Settings › Alerts.", b.Name, noticesText(len(b.Notices)))
		}
		return "No alert rules in use: choose a preset or a rules file in Settings › Alerts."
	}
	names := make([]string, 0, len(b.Bound))
	for _, bd := range b.Bound {
		names = append(names, bd.Rule.Name())
	}
	s := "s"
	if len(b.Bound) == 1 {
		s = ""
	}
	return fmt.Sprintf("Watching %d rule%s of %s: %s", len(b.Bound), s, b.Name, strings.Join(names, ", "))
}

// Open reads rules named the way a user names them: the path of a rules file, or the
// name of a preset in presets (with or without "preset:"). It returns the rules and the
// name to show for them ("preset default" or the path).
func Open(spec string, presets fs.FS) (*Ruleset, string, error) {
	if !strings.HasPrefix(spec, "preset:") {
		_, err := os.Stat(spec)
		if err == nil {
			rs, err := LoadFile(spec)
			return rs, spec, err
		}
		if strings.ContainsRune(spec, '/') || strings.HasSuffix(strings.ToLower(spec), ".toml") {
			// Named as a file, not a preset: say what is wrong with the file.
			files, _ := fs.Glob(presets, "*.toml")
			for i, f := range files {
				files[i] = strings.TrimSuffix(f, ".toml")
			}
			return nil, "", fmt.Errorf("rules file %s: %w; give an existing rules file or a preset (%s)", spec, err, strings.Join(files, ", "))
		}
	}
	name := strings.TrimPrefix(spec, "preset:")
	rs, err := LoadPreset(presets, name)
	if err != nil {
		return nil, "", fmt.Errorf("rules %s: no such file, and %v", spec, err)
	}
	return rs, "preset " + name, nil
}
