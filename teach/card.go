package teach

import (
	"fmt"
	"io"
	"strings"
)

// table writes rows as aligned text, or as a Markdown table; the first row is the header.
// Columns after the first are right-aligned.
func table(w io.Writer, rows [][]string, markdown bool) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for ri, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i == 0 {
				cells[i] = c + pad
			} else {
				cells[i] = pad + c
			}
		}
		if !markdown {
			fmt.Fprintln(w, strings.TrimRight(strings.Join(cells, "  "), " "))
			continue
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
		if ri == 0 {
			seps := make([]string, len(r))
			for i := range r {
				seps[i] = strings.Repeat("-", max(3, widths[i]))
				if i > 0 {
					seps[i] = seps[i][1:] + ":"
				}
			}
			fmt.Fprintln(w, "| "+strings.Join(seps, " | ")+" |")
		}
	}
}

// biasText says which new taxa's scores were shifted, and by how much, or nothing.
func (r Report) biasText() string {
	var parts []string
	for _, l := range r.New {
		if b, ok := r.Bias[l]; ok && b != 0 {
			parts = append(parts, fmt.Sprintf("%s %+.3g", l, b))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; scores shifted by log-odds: " + strings.Join(parts, ", ")
}

// Write writes the report as text tables (markdown false) or as the card's Markdown.
func (r Report) Write(w io.Writer, markdown bool) {
	if len(r.LeftOut) > 0 {
		fmt.Fprintf(w, "Left out, with fewer than %d crops: %s.\n\n", MinPerClass, LeftOutText(r.LeftOut))
	}
	for _, m := range r.Models {
		ref := "no reference sample"
		if r.Reference > 0 {
			ref = fmt.Sprintf("%d crops of the reference sample", r.Reference)
		}
		title := fmt.Sprintf("%s model: %d-fold cross-validation over the %d crops given and %s (L2 %g, chosen by held-out log-loss among %s%s)",
			m.Variant, m.Folds, r.Taught, ref, m.Lambda, lambdaLosses(m), r.biasText())
		if markdown {
			fmt.Fprintf(w, "### %s\n\n", title)
		} else {
			fmt.Fprintf(w, "%s\n\n", title)
		}
		rows := [][]string{{"label", "crops", "recall", "precision", "called it"}}
		for _, c := range m.Classes {
			name := c.Label
			if c.New {
				name += " (new)"
			}
			rows = append(rows, []string{name, fmt.Sprint(c.Support), fmt.Sprintf("%.3f", c.Recall), fmt.Sprintf("%.3f", c.Precision), fmt.Sprint(c.Predicted)})
		}
		table(w, rows, markdown)
		fmt.Fprintf(w, "\nnew taxa: top-1 %.3f, macro-F1 %.3f; the pack's own taxa (%d held-out crops): top-1 %.3f before teaching, %.3f after (%+.1f points)\n\n",
			m.Top1New, m.MacroF1, m.OldCrops, m.OldTop1Before, m.OldTop1After, 100*(m.OldTop1After-m.OldTop1Before))
		if m.NearCopies > 0 {
			verb := "are near copies"
			if m.NearCopies == 1 {
				verb = "is a near copy"
			}
			fmt.Fprintf(w, "%d of the crops given %s of another (the same cell twice: a frame saved again?): each was kept in one fold with its twin, so no copy tested its twin; they still count as crops above.\n\n", m.NearCopies, verb)
		}
		head := []string{"taught \\ called"}
		head = append(head, r.New...)
		head = append(head, "pack's own", "the pack called them before")
		rows = [][]string{head}
		for i, l := range r.New {
			row := []string{l}
			for _, n := range m.Confusion[i] {
				row = append(row, fmt.Sprint(n))
			}
			row = append(row, oldLabelsLine(m.OldLabels[i], 3))
			rows = append(rows, row)
		}
		table(w, rows, markdown)
		fmt.Fprintln(w)
	}
}

func lambdaLosses(m ModelReport) string {
	var parts []string
	for _, l := range m.LogLoss {
		parts = append(parts, fmt.Sprintf("%g: %.3f", l.Lambda, l.LogLoss))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// oldLabelsLine is the n most frequent labels with their counts, and how many others.
func oldLabelsLine(lc []LabelCount, n int) string {
	var parts []string
	rest := 0
	for i, c := range lc {
		if i < n {
			parts = append(parts, fmt.Sprintf("%s %d", c.Label, c.N))
		} else {
			rest += c.N
		}
	}
	if rest > 0 {
		parts = append(parts, fmt.Sprintf("others %d", rest))
	}
	return strings.Join(parts, ", ")
}

// Card is the taught pack's README.md: what it was taught, from what, and how well.
func (t *Taught) Card() string {
	var b strings.Builder
	p := t.From
	fmt.Fprintf(&b, "# Classifier pack `%s`\n\n", t.Name)
	fmt.Fprintf(&b, "Pack `%s` taught %d new taxa (%s) by `phytoscreen pack teach` on %d labelled crops",
		p.Name, len(t.New), strings.Join(t.New, ", "), len(t.Examples))
	if t.Reference > 0 {
		fmt.Fprintf(&b, ", with %d crops of the pack's bundled reference sample as examples of its own taxa", t.Reference)
	}
	b.WriteString(".\n\n")
	b.WriteString("The models output the pack's own probabilities beside a new head's scores for the new taxa on the\n" +
		"pack's `features` output: `softmax([log p_old ; W f + b])`, so the old classes keep their order and\n" +
		"lose a crop only to a new taxon that scores higher. Each model (base, optimised) has its own head,\n" +
		"fitted on its own features by L2-regularised multinomial logistic regression.\n\n")
	b.WriteString("## What it learned from\n\n")
	counts := map[string]int{}
	from := map[string]map[string]bool{}
	for _, e := range t.Examples {
		counts[e.Label]++
		if from[e.Label] == nil {
			from[e.Label] = map[string]bool{}
		}
		from[e.Label][sourceKind(e.Source)] = true
	}
	rows := [][]string{{"label", "crops", "from"}}
	for _, l := range sortedKeys(counts) {
		rows = append(rows, []string{l, fmt.Sprint(counts[l]), strings.Join(sortedKeys(from[l]), ", ")})
	}
	table(&b, rows, true)
	fmt.Fprintf(&b, "\nEvery crop, with its source and label, is listed in `%s`.\n\n", ExamplesFile)
	b.WriteString("## Cross-validated figures\n\n")
	b.WriteString("Every crop predicted by a head fitted without it. \"Called it\" counts every held-out crop the\n" +
		"taught pack gave the label, reference crops included (precision is over those). The confusion shows\n" +
		"the new taxa against each other and the pack's own taxa, and the labels the pack gave the same crops\n" +
		"before teaching.\n\n")
	t.Report.Write(&b, true)
	fmt.Fprintf(&b, "## Before teaching\n\nThe figures `%s` recorded for its models are under `metrics.before_teaching` in `pack.json`:\n"+
		"they were measured before the head was added.\n", p.Name)
	return b.String()
}

// sourceKind is where a crop came from, in a word, for the card.
func sourceKind(src string) string {
	switch {
	case strings.HasPrefix(src, "object "):
		if i := strings.Index(src, " of "); i >= 0 {
			s := src[i+4:]
			if j := strings.Index(s, " (sample"); j >= 0 {
				s = s[:j]
			}
			return "session store " + s
		}
		return "session store"
	case strings.Contains(src, ".zip:") || strings.Contains(src, ".tsv:"):
		return "EcoTaxa export"
	}
	if i := strings.LastIndex(src, "/"); i > 0 {
		return src[:i]
	}
	return src
}
