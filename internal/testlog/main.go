// Command testlog reads 'go test -json' and prints it the way a person wants to read a
// whole test run: one line per package, the full output of a test that failed, and
// every skipped test with its reason. It records the skips of each phase of 'make test'
// in a file; with -check it compares them with the list of skips the project expects
// (.ci/expected-skips) and fails on any other: a test that needs something missing must
// fail, not pass by skipping.
//
//	go test -json ./... | go run ./internal/testlog -phase main -skips /tmp/skips
//	go run ./internal/testlog -check .ci/expected-skips -skips /tmp/skips
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// event is one line of 'go test -json' (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// skip is a test that skipped, and why.
type skip struct {
	Phase, Package, Test, Reason string
}

func main() {
	phase := flag.String("phase", "", "name of this test phase (main, race, matprofile, ...), recorded with its skips")
	skips := flag.String("skips", "", "file the phase's skips are appended to (TSV), or read with -check")
	check := flag.String("check", "", "compare the recorded skips with this list of expected ones and fail on any other")
	flag.Parse()
	var err error
	if *check != "" {
		err = checkSkips(os.Stdout, *check, *skips)
	} else {
		err = follow(os.Stdin, os.Stdout, *phase, *skips)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testlog:", err)
		os.Exit(1)
	}
}

// follow prints the run as it goes and appends its skips to the skips file. It fails
// when a test or package failed, or the stream ended without a result.
func follow(r io.Reader, w io.Writer, phase, skipsFile string) error {
	type key struct{ pkg, test string }
	outputs := map[key][]string{}
	var started []key // tests in the order they started, to report those that never ended
	var skipped []skip
	failed := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			fmt.Fprintln(w, string(line)) // a build error or other plain output
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "run":
			started = append(started, k)
		case "output":
			outputs[k] = append(outputs[k], e.Output)
		case "build-output":
			fmt.Fprint(w, e.Output)
		case "build-fail":
			failed++
		case "skip":
			if e.Test != "" {
				s := skip{Phase: phase, Package: e.Package, Test: e.Test, Reason: skipReason(outputs[k])}
				skipped = append(skipped, s)
				fmt.Fprintf(w, "--- SKIP: %s %s: %s\n", s.Package, s.Test, s.Reason)
			}
			delete(outputs, k)
		case "pass":
			if e.Test == "" {
				fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
			}
			delete(outputs, k)
		case "fail":
			failed++
			if e.Test != "" {
				fmt.Fprintf(w, "--- FAIL: %s %s (%.2fs)\n%s", e.Package, e.Test, e.Elapsed, strings.Join(outputs[k], ""))
			} else {
				// A test binary that dies (a panic in a goroutine, os.Exit, a signal)
				// leaves its running tests without a result: their output holds the
				// cause, so it is printed here rather than lost.
				for _, t := range started {
					if out, open := outputs[t]; open && t.pkg == e.Package && t.test != "" {
						fmt.Fprintf(w, "--- DID NOT END: %s %s\n%s", t.pkg, t.test, strings.Join(out, ""))
						delete(outputs, t)
					}
				}
				fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n%s", e.Package, e.Elapsed, strings.Join(outputs[k], ""))
			}
			delete(outputs, k)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if skipsFile != "" && len(skipped) > 0 {
		f, err := os.OpenFile(skipsFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		for _, s := range skipped {
			fmt.Fprintf(f, "%s\t%s\t%s\t%s\n", s.Phase, s.Package, s.Test, s.Reason)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("phase %s: %d failures", phase, failed)
	}
	return nil
}

// skipReason is the message the test gave t.Skip: the last line of its output that
// names a test file and line.
var fileLine = regexp.MustCompile(`^\s*\w[\w.-]*_test\.go:\d+: (.*)$`)

func skipReason(out []string) string {
	for i := len(out) - 1; i >= 0; i-- {
		if m := fileLine.FindStringSubmatch(strings.TrimRight(out[i], "\n")); m != nil {
			return m[1]
		}
	}
	return "(no reason given)"
}

// expectation is one line of the expected-skips list: a phase ("*" for any), a package
// suffix, a test name pattern and a reason pattern, each a regular expression.
type expectation struct {
	line                 int
	phase, pkg, test, rx *regexp.Regexp
	why                  string
	seen                 int
}

func (x *expectation) matches(s skip) bool {
	return x.phase.MatchString(s.Phase) && x.pkg.MatchString(s.Package) && x.test.MatchString(s.Test) && x.rx.MatchString(s.Reason)
}

// checkSkips prints the expected skips seen and every unexpected one, and fails when
// there is an unexpected one.
func checkSkips(w io.Writer, listFile, skipsFile string) error {
	list, err := readExpectations(listFile)
	if err != nil {
		return err
	}
	var skipped []skip
	if data, err := os.ReadFile(skipsFile); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if f := strings.SplitN(l, "\t", 4); len(f) == 4 {
				skipped = append(skipped, skip{f[0], f[1], f[2], f[3]})
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var unexpected []skip
	for _, s := range skipped {
		ok := false
		for _, x := range list {
			if x.matches(s) {
				x.seen++
				ok = true
				break
			}
		}
		if !ok {
			unexpected = append(unexpected, s)
		}
	}
	fmt.Fprintf(w, "Expected skips (%s):\n", listFile)
	for _, x := range list {
		fmt.Fprintf(w, "  %3d  %s\n", x.seen, x.why)
	}
	for _, s := range unexpected {
		fmt.Fprintf(w, "UNEXPECTED SKIP [%s] %s %s: %s\n", s.Phase, s.Package, s.Test, s.Reason)
	}
	fmt.Fprintf(w, "%d skips, %d unexpected skips\n", len(skipped), len(unexpected))
	if len(unexpected) > 0 {
		return fmt.Errorf("%d unexpected skips: a test that cannot run here must fail, or be listed in %s with the reason", len(unexpected), listFile)
	}
	return nil
}

// readExpectations reads the list: one expectation a line, fields separated by tabs:
// phase, package, test, reason (regular expressions), then the explanation printed.
func readExpectations(file string) ([]*expectation, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []*expectation
	for i, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		f := strings.Split(l, "\t")
		var clean []string
		for _, x := range f {
			if x != "" {
				clean = append(clean, x)
			}
		}
		if len(clean) != 5 {
			return nil, fmt.Errorf("%s line %d: want 5 tab-separated fields (phase, package, test, reason, explanation), got %d", file, i+1, len(clean))
		}
		x := &expectation{line: i + 1, why: clean[4]}
		for j, p := range []**regexp.Regexp{&x.phase, &x.pkg, &x.test, &x.rx} {
			rx := clean[j]
			if rx == "*" {
				rx = ".*"
			}
			if *p, err = regexp.Compile(rx); err != nil {
				return nil, fmt.Errorf("%s line %d: %v", file, i+1, err)
			}
		}
		out = append(out, x)
	}
	return out, nil
}
