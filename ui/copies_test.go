package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
)

// A copy of screened frames in another folder is asked about as the same folder is,
// naming the copy: "Screened before" compared paths alone and let the copy on the
// desktop become a second sample of the same water (helper-54). Cancel records
// nothing; Screen as runs it as the new sample.
func TestCopiedFramesAskedAbout(t *testing.T) {
	dir := cellFolder(t, 6)
	h := cellHarness(t, "")
	h.a.sample.ID.SetText("S-ORIG")
	h.a.startSource(capture.Cells(dir))
	h.waitIdle()
	if h.storedObjects("S-ORIG") != 6 {
		t.Fatalf("the first run stored %d objects, want 6 (%v)", h.storedObjects("S-ORIG"), h.a.lastError)
	}
	copyDir := filepath.Join(t.TempDir(), "desktop-copy")
	if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	var asked []string
	answer := false
	h.a.confirmAgain = func(title, msg, yes, no string, ans func(bool)) {
		asked = append(asked, title+"\n"+msg)
		ans(answer)
	}
	h.a.sample.ID.SetText("S-COPY")
	h.a.startSource(capture.Cells(copyDir))
	h.pump("the question", 10*time.Second, func() bool { return len(asked) > 0 || h.a.lastError != nil })
	h.waitIdle()
	if len(asked) != 1 || !strings.Contains(asked[0], "Screened before as S-ORIG") || !strings.Contains(asked[0], " is a copy of "+dir) {
		t.Fatalf("a copy of a screened folder as a new sample: asked %q, error %v", asked, h.a.lastError)
	}
	if held, _ := h.st.HasSample(h.a.ctx, "S-COPY"); held || h.a.lastError != nil {
		t.Errorf("cancelled: sample S-COPY stored %v, error %v", held, h.a.lastError)
	}
	answer = true
	h.a.sample.ID.SetText("S-COPY")
	h.a.startSource(capture.Cells(copyDir))
	h.pump("the run told to go on", 20*time.Second, func() bool {
		return len(asked) > 1 && h.a.sess == nil && h.storedObjects("S-COPY") > 0 || h.a.lastError != nil
	})
	if len(asked) != 2 || h.storedObjects("S-COPY") != 6 {
		t.Errorf("told to screen the copy: asked %d times, S-COPY holds %d objects, error %v", len(asked), h.storedObjects("S-COPY"), h.a.lastError)
	}
}
