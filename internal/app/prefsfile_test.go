package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/testutil"
)

// A preferences file that does not read as Fyne reads it (cut short by a power cut while
// it was saved, edited by hand into something else) is moved aside, byte for byte, to
// NAME.bad-TIMESTAMP, never over another file, and the error says which file, where it
// was kept and that the defaults are in use. A file that reads, or none, is left alone
// and nothing is said; an empty one is said, with nothing to keep.
func TestKeepUnreadablePrefs(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.Local)
	const stamp = ".bad-20260304-050607"
	for _, c := range []struct {
		name    string
		content *string // nil: no file
		taken   bool    // a file is already at the first kept name
		want    []string
		kept    string // the name it is kept under; "" when it stays where it was
	}{
		{name: "none"},
		{name: "good", content: ptr(`{"sample.site":"Loch Creran","model.batch":32}` + "\n")},
		{name: "cut short", content: ptr(`{"alerts.preset":"scotland","sample.site":"Loch Creran","review.reviewer":"Ann`),
			want: []string{"could not be read (it ends part way, after 78 bytes: cut short): it was kept as ", "starts on the default settings"}, kept: stamp},
		{name: "not JSON", content: ptr("site = Loch Creran\n"),
			want: []string{"could not be read (not JSON at byte 1: invalid character 's'", "starts on the default settings"}, kept: stamp},
		{name: "a list", content: ptr(`["scotland"]`), want: []string{"(it holds a list, not the settings' JSON object)"}, kept: stamp},
		{name: "null", content: ptr("null\n"), want: []string{"(it holds null, not the settings' JSON object)"}, kept: stamp},
		{name: "kept name taken", content: ptr(`{"sample.site":`), taken: true,
			want: []string{"it was kept as "}, kept: stamp + "-2"},
		{name: "empty", content: ptr(" \n"), want: []string{"is empty (cut short while it was being saved?): phytoscreen starts on the default settings"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "preferences.json")
			if c.content != nil {
				if err := os.WriteFile(path, []byte(*c.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if c.taken {
				if err := os.WriteFile(path+stamp, []byte("an earlier one"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := KeepUnreadablePrefs(path, now)
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("%v, want nothing said", err)
				}
				if c.content != nil {
					if b, _ := os.ReadFile(path); string(b) != *c.content {
						t.Errorf("a file that reads was changed: %q", b)
					}
				}
				return
			}
			var ue *UnreadablePrefsError
			if !errors.As(err, &ue) {
				t.Fatalf("%v, want an *UnreadablePrefsError", err)
			}
			for _, w := range append(c.want, "the settings file "+path+" ") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the message does not say %q:\n%v", w, err)
				}
			}
			if c.kept == "" {
				if ue.Kept != "" {
					t.Errorf("kept as %s, want it left where it was", ue.Kept)
				}
				return
			}
			if ue.Kept != path+c.kept || !strings.Contains(err.Error(), "kept as "+path+c.kept+",") {
				t.Errorf("kept as %q, want %s (message: %v)", ue.Kept, path+c.kept, err)
			}
			if b, rerr := os.ReadFile(path + c.kept); rerr != nil || string(b) != *c.content {
				t.Errorf("the kept file holds %q (%v), want the unreadable file's bytes", b, rerr)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the unreadable file is still at %s (%v): the next save writes over it", path, err)
			}
			if c.taken {
				if b, _ := os.ReadFile(path + stamp); string(b) != "an earlier one" {
					t.Errorf("the file already at the kept name was replaced: %q", b)
				}
			}
		})
	}
}

// prefsReadOnlyEnv names the preferences file TestKeepUnreadablePrefsFolderReadOnly's
// check reads, in a folder it cannot write.
const prefsReadOnlyEnv = "PHYTOSCREEN_APP_PREFS_READONLY"

// In a folder that cannot be written, the unreadable file cannot be moved aside: the
// message says so and that it should be copied elsewhere before the app writes over it.
// Root writes everywhere, so under root the check runs as user nobody.
func TestKeepUnreadablePrefsFolderReadOnly(t *testing.T) {
	if path := os.Getenv(prefsReadOnlyEnv); path != "" {
		checkPrefsNotKept(t, path)
		return
	}
	dir := filepath.Join(testutil.TempDirForAll(t), "fyne")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "preferences.json")
	if err := os.WriteFile(path, []byte(`{"sample.site":"Lo`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	if !testutil.IsRoot() {
		checkPrefsNotKept(t, path)
		return
	}
	out, err := testutil.RunAsNobody(t, "TestKeepUnreadablePrefsFolderReadOnly", prefsReadOnlyEnv+"="+path)
	t.Log(out)
	if err != nil || !strings.Contains(out, "--- PASS: TestKeepUnreadablePrefsFolderReadOnly") {
		t.Fatalf("check as nobody did not pass (%v)", err)
	}
}

func checkPrefsNotKept(t *testing.T, path string) {
	err := KeepUnreadablePrefs(path, time.Now())
	t.Logf("%v", err)
	var ue *UnreadablePrefsError
	if !errors.As(err, &ue) || ue.KeepErr == nil || ue.Kept != "" ||
		!strings.Contains(err.Error(), "could not be kept aside") || !strings.Contains(err.Error(), "copy it elsewhere now") {
		t.Errorf("%v: want it said that the file could not be kept aside, and to copy it", err)
	}
	if b, rerr := os.ReadFile(path); rerr != nil || string(b) != `{"sample.site":"Lo` {
		t.Errorf("the file now holds %q (%v)", b, rerr)
	}
}

func ptr(s string) *string { return &s }
