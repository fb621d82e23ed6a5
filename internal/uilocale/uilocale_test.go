package uilocale

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestFix(t *testing.T) {
	for _, c := range []struct {
		lcAll, lang, language string
		want                  string // LANGUAGE afterwards
	}{
		{"", "C.UTF-8", "", "en"},
		{"C.UTF-8", "en_GB.UTF-8", "", "en"}, // LC_ALL wins over LANG
		{"", "POSIX.UTF-8", "", "en"},
		{"", "C", "", "en"}, // plain C: Fyne's lookup ignores LANGUAGE then; harmless
		{"", "de_DE.UTF-8", "", ""},
		{"", "C.UTF-8", "fr", "fr"}, // the user's own choice stays
		{"", "", "", ""},
	} {
		t.Setenv("LC_ALL", c.lcAll)
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", c.lang)
		t.Setenv("LANGUAGE", c.language)
		Fix()
		if got := os.Getenv("LANGUAGE"); got != c.want {
			t.Errorf("LC_ALL=%q LANG=%q LANGUAGE=%q: LANGUAGE became %q, want %q", c.lcAll, c.lang, c.language, got, c.want)
		}
	}
}

// TestFyneStartsQuietlyUnderCLocales builds testdata/quiet, which imports Fyne's widgets
// after this package, and checks that Fyne logs no locale error under LANG=C.UTF-8 or
// LANG=C.
func TestFyneStartsQuietlyUnderCLocales(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Fyne program")
	}
	prog := t.TempDir() + "/quiet"
	if out, err := exec.Command("go", "build", "-o", prog, "./testdata/quiet").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, lang := range []string{"C.UTF-8", "C"} {
		cmd := exec.Command(prog)
		cmd.Env = append(os.Environ(), "LANG="+lang, "LC_ALL=", "LC_MESSAGES=", "LANGUAGE=")
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), "Fyne error") || strings.TrimSpace(string(out)) != "en" {
			t.Errorf("LANG=%s: %v\n%s", lang, err, out)
		}
	}
}
