package alerts

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/inputfile"
)

// A rules file nested 10,000 deep, in each way TOML nests, is refused with the file, the
// line and the limit before the decoder sees it (the decoder alone took 21 s on the
// inline tables and 5 s on the dotted key).
func TestDeepNestingRefused(t *testing.T) {
	const n = 10_000
	head := "name = \"x\"\nsource = \"s\"\n"
	cases := map[string]string{
		"arrays":        head + "a = " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n",
		"inline tables": head + "a = " + strings.Repeat("{b=", n) + "1" + strings.Repeat("}", n) + "\n",
		"dotted key":    head + "a" + strings.Repeat(".b", n) + " = 1\n",
		"table header":  head + "[" + strings.Repeat("a.", n) + "b]\nx = 1\n",
		"unclosed":      head + "a = " + strings.Repeat("[", n),
		"mixed":         head + "a = " + strings.Repeat("[{b.c=", n/2),
	}
	for name, text := range cases {
		start := time.Now()
		_, err := Parse([]byte(text), "deep.toml")
		took := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "deep.toml line 3: nested more than 32 levels deep") {
			t.Errorf("%s: %v, want the nesting refused on line 3", name, err)
		}
		if took > time.Second {
			t.Errorf("%s: refused after %v, want at once", name, took)
		}
		t.Logf("%s: %v (%v)", name, err, took)
	}
}

// What is not nesting does not count: brackets and dots in strings and comments,
// decimal numbers and times; 32 levels pass.
func TestShallowFilesPass(t *testing.T) {
	deep := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	text := "name = \"" + deep + "...\" # " + deep + "\nsource = '''\n" + deep + "\n'''\n" +
		"description = \"a \\\" [[[ \\\\\"\nhysteresis = 0.25\n[[rule]]\ntaxon = 'a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.1.2.3.4.5.6.7.8'\n" +
		"alert = 1.5e3\nnote = \"\"\"\n" + deep + "\"\"\"\n"
	rs, err := Parse([]byte(text), "ok.toml")
	if err != nil {
		t.Fatalf("%v", err)
	}
	if rs.Hysteresis != 0.25 || len(rs.Rules) != 1 {
		t.Errorf("parsed %+v", rs)
	}
	at := func(d int) error {
		return checkDepth([]byte("a = "+strings.Repeat("[", d)+strings.Repeat("]", d)), "d.toml")
	}
	if err := at(MaxDepth); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
	if err := at(MaxDepth + 1); err == nil {
		t.Errorf("%d levels accepted", MaxDepth+1)
	}
}

// A FIFO, a device or an oversized file named as the rules file is refused at once,
// naming it; the FIFO would hold the read until something wrote to it.
func TestLoadFileRefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "rules.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, []byte(strings.Repeat("# padding\n", inputfile.MaxText/10+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path, want string
		kind       error
	}{
		{fifo, "rules file: " + fifo + " is a named pipe (FIFO), not a file: give a regular file", inputfile.ErrNotRegular},
		{"/dev/zero", "rules file: /dev/zero is a character device, not a file", inputfile.ErrNotRegular},
		{big, " bytes, over the 4.0 MiB this kind of file may have", inputfile.ErrTooLarge},
	}
	for _, c := range cases {
		done := make(chan error, 1)
		go func() { _, _, err := Open(c.path, nil); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want %q", c.path, err, c.want)
			}
			t.Logf("%v", err)
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still reading after 5 s", c.path)
		}
	}
}
