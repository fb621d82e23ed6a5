package report

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A zone is named as --tz takes it; the machine's own ("Local" to Go) by the name TZ
// gives it, in a child process with TZ set (helper-89).
func TestZoneName(t *testing.T) {
	if name := os.Getenv("ZONE_NAME_CHILD"); name != "" {
		if got := ZoneName(time.Local); got != name {
			t.Fatalf("ZoneName(time.Local) with TZ=%s: %q", os.Getenv("TZ"), got)
		}
		return
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if got := ZoneName(berlin); got != "Europe/Berlin" {
		t.Errorf("ZoneName(Europe/Berlin) = %q", got)
	}
	if got := ZoneName(nil); got != "UTC" {
		t.Errorf("ZoneName(nil) = %q, want UTC", got)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestZoneName$")
	cmd.Env = append(os.Environ(), "TZ=America/Sao_Paulo", "ZONE_NAME_CHILD=America/Sao_Paulo")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "PASS") {
		t.Errorf("the machine's zone under TZ=America/Sao_Paulo: %v\n%s", err, out)
	}
}
