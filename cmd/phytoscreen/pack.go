package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/phytoscreen/phytoscreen/internal/app"

	"github.com/phytoscreen/phytoscreen/inference"
	"github.com/phytoscreen/phytoscreen/screening"
)

func (m *Main) pack(ctx context.Context, args []string) error {
	switch {
	case len(args) > 0 && (args[0] == "optimise" || args[0] == "optimize"):
		return m.packOptimise(ctx, args[1:])
	case len(args) > 0 && args[0] == "teach":
		return m.packTeach(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "inspect" {
		fmt.Fprintln(m.Stderr, "usage: phytoscreen pack inspect [--ort-lib PATH] [DIR | --pack NAME]\n       phytoscreen pack optimise [--pack DIR] [--calibration DIR] --out DIR (pack optimise -h)\n       phytoscreen pack teach [--pack DIR] --labels LIST.csv --out DIR (pack teach -h)\n\nPrints a pack's name, labels, input contract, models with sizes and recorded metrics,\nand checks each model against the contract. Without DIR: the built-in pack.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errUsageShown
	}
	fs := newFlags("pack inspect", "[DIR]", m.Stderr)
	ortLib := fs.String("ort-lib", "", "`path` to libonnxruntime.so.1, to check the models")
	// --pack as every other command takes it (the README says so), beside the DIR.
	packFlag := fs.String("pack", "", "the pack to inspect: a built-in pack's name or a pack `folder` (the same as DIR)")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 1 || (len(pos) == 1 && *packFlag != "") {
		given := pos
		if *packFlag != "" {
			given = append([]string{*packFlag}, pos...)
		}
		return usageError("inspect takes one pack, as DIR or --pack, not both %q and %q", given[0], given[1])
	}
	dir := *packFlag
	if len(pos) == 1 {
		dir = pos[0]
	}
	p, err := app.LoadPack(dir)
	if err != nil {
		return setupError(err)
	}
	printPack(m.Stdout, p)
	// The taxonomy as screen reads it: a broken taxonomy.toml, or one naming a label the
	// pack lacks, passed inspect and then stopped screen (helper-39).
	failed := false
	if tx, err := screening.ForPack(p); err != nil {
		fmt.Fprintf(m.Stdout, "check taxonomy  FAILED: %v\n", err)
		failed = true
	} else {
		fmt.Fprintf(m.Stdout, "check taxonomy  ok: %d taxa, %d HAB groups\n", len(tx.Taxa), len(tx.Groups))
	}
	// Opening each model checks it against the contract (labels vs outputs, input shape).
	if _, err := inference.InitRuntime(*ortLib); err != nil {
		fmt.Fprintf(m.Stdout, "\nmodels not checked: %v\n", err)
		if failed {
			return errSomeFailed
		}
		return nil
	}
	for _, v := range p.Variants() {
		c, err := inference.NewClassifier(p, inference.Options{Variant: v, Threads: 1})
		if err != nil {
			fmt.Fprintf(m.Stdout, "check %-9s FAILED: %v\n", v, err)
			failed = true
			continue
		}
		c.Close()
		fmt.Fprintf(m.Stdout, "check %-9s ok: input and output match the contract (ONNX Runtime %s)\n", v, inference.LoadedRuntimeVersion())
	}
	if failed {
		return errSomeFailed
	}
	return nil
}

// labelsShort names a pack's labels: all of up to five, else the first three and the
// last ("a, b, c, ... z"; a pack of three read "a, b, c, ... c").
func labelsShort(labels []string) string {
	if len(labels) <= 5 {
		return strings.Join(labels, ", ")
	}
	return strings.Join(labels[:3], ", ") + ", ... " + labels[len(labels)-1]
}

func printPack(w io.Writer, p *inference.Pack) {
	kv := func(k, format string, a ...any) { fmt.Fprintf(w, "%-10s "+format+"\n", append([]any{k}, a...)...) }
	kv("pack", "%s", p.Name)
	kv("source", "%s", p.Source)
	if p.Dataset != "" {
		kv("dataset", "%s", p.Dataset)
	}
	if p.Limits != "" {
		kv("limits", "%s", p.Limits)
	}
	kv("labels", "%d (%s)", len(p.Labels), labelsShort(p.Labels))
	in := p.Input
	kv("input", "%q %s %v", in.Name, in.DType, in.Shape)
	for _, l := range p.ContractLines() {
		kv(l[0], "%s", l[1])
	}
	kv("output", "%q %v %s", p.Output.Name, p.Output.Shape, p.Output.Activation)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-10s %-16s %9s %7s %7s %8s %9s\n", "model", "file", "size", "top-1", "top-5", "logloss", "agreement")
	anyRecorded := false
	for _, v := range p.Variants() {
		m := p.Models[v]
		size := "?"
		if n, err := p.ModelSize(v); err == nil {
			size = fmt.Sprintf("%.1f MB", float64(n)/1e6)
		}
		agree := "-"
		if m.Agreement > 0 {
			agree = fmt.Sprintf("%.3f", m.Agreement)
		}
		recorded := m.ValTop1 > 0 // a taught pack records none: its card has the cross-validated figures
		fig := func(x float64) string {
			if !recorded {
				return "-"
			}
			return fmt.Sprintf("%.3f", x)
		}
		fmt.Fprintf(w, "%-10s %-16s %9s %7s %7s %8s %9s\n", v, m.File, size, fig(m.ValTop1), fig(m.ValTop5), fig(m.ValLogLoss), agree)
		anyRecorded = anyRecorded || recorded
	}
	if !anyRecorded {
		fmt.Fprintln(w, "(no validation figures recorded: see the pack's README.md)")
	}
	if p.ValImages > 0 && anyRecorded {
		fmt.Fprintf(w, "(metrics recorded on %d val images)\n", p.ValImages)
	}
	for _, l := range p.MetricLines() {
		fmt.Fprintln(w, l)
	}
	// Each model's architecture in full, not clipped into the table: its last clauses
	// (two views, what was kept fp32) are what tells the models apart.
	for _, v := range p.Variants() {
		fmt.Fprintf(w, "%-10s %s\n", v, p.Models[v].Arch)
	}
	fmt.Fprintln(w)
}
