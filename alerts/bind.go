package alerts

import (
	"fmt"
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
			what := fmt.Sprintf("taxon %q is not in pack %s", strings.Join(missing, `", "`), pack)
			if len(missing) > 1 {
				what = fmt.Sprintf("taxa %q are not in pack %s", strings.Join(missing, `", "`), pack)
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
