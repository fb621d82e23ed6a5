package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/capture"
	"github.com/phytoscreen/phytoscreen/store"
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

// A volume examined a microscope does not examine at once (a typo: 5000 mL for 5) is
// asked about before the run, naming the check; cancelled, nothing is stored; confirmed,
// the run goes on and that volume is not asked about again (helper-56: 1,000,000 mL read
// 0.014 cells/L with no word).
func TestLargeVolumeAskedBeforeTheRun(t *testing.T) {
	dir := cellFolder(t, 4)
	h := cellHarness(t, "")
	var asked []string
	answer := false
	h.a.confirm = func(title, msg, yes, no string, ans func(bool)) {
		asked = append(asked, title+"\n"+msg+"\n"+yes)
		ans(answer)
	}
	h.a.sample.ID.SetText("S-VOL")
	h.a.sample.Volume.SetText("5000")
	h.a.startSource(capture.Cells(dir))
	h.waitIdle()
	if len(asked) != 1 || !strings.Contains(asked[0], "Check the volume examined") ||
		!strings.Contains(asked[0], "5000 mL examined is more than a microscope examines at once") || !strings.Contains(asked[0], "Screen with 5000 mL") {
		t.Fatalf("asked %q", asked)
	}
	if held, _ := h.st.HasSample(h.a.ctx, "S-VOL"); held {
		t.Error("cancelled, the sample was stored")
	}
	answer = true
	h.a.startSource(capture.Cells(dir))
	h.pump("the run", 20*time.Second, func() bool { return h.storedObjects("S-VOL") > 0 && h.a.sess == nil || h.a.lastError != nil })
	if len(asked) != 2 || h.storedObjects("S-VOL") != 4 {
		t.Fatalf("confirmed: asked %d times, stored %d objects, error %v", len(asked), h.storedObjects("S-VOL"), h.a.lastError)
	}
	h.a.sample.ID.SetText("S-VOL2")
	h.a.startSource(capture.Cells(cellFolder(t, 2)))
	h.pump("the second run", 20*time.Second, func() bool { return h.storedObjects("S-VOL2") > 0 && h.a.sess == nil || h.a.lastError != nil })
	if len(asked) != 2 {
		t.Errorf("the confirmed volume was asked about again: %q", asked[2:])
	}
	// The usual volumes are never asked about.
	h.a.sample.ID.SetText("S-VOL3")
	h.a.sample.Volume.SetText("50")
	h.a.startSource(capture.Cells(cellFolder(t, 2)))
	h.pump("the third run", 20*time.Second, func() bool { return h.storedObjects("S-VOL3") > 0 && h.a.sess == nil || h.a.lastError != nil })
	if len(asked) != 2 {
		t.Errorf("50 mL was asked about: %q", asked[2:])
	}
}

// The question says how many of the folder's frames another sample holds when it is not
// all of them, and puts samples of another site into the programme's reports, not "the
// site's trend" (helper-59: one copied frame in 778, three samples of other ponds).
func TestScreenedAgainTextSaysHowMuch(t *testing.T) {
	when := time.Date(2026, 12, 6, 23, 7, 0, 0, time.Local)
	refs := []store.RunRef{{Sample: "S-1", Site: "Pond B", Run: 1, Started: when, Shared: 1, Copy: "n/a.jpg is a copy of c/a.jpg"}}
	msg := screenedAgainText("non-algae", "S-9", "Control tank", refs, 778)
	for _, want := range []string{"Some of these frames (non-algae) were screened before: at most 1 of its 778", "sample S-1 at Pond B (on 2026-12-06 23:07, 1 frame of them)",
		"counts those frames' water again: both samples go into the programme's reports.", "Screen them as sample S-9?"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the question lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "site's trend") {
		t.Errorf("a sample of another site said to go into the site's trend:\n%s", msg)
	}
	refs[0].Shared, refs[0].Site = 778, "control tank"
	msg = screenedAgainText("non-algae", "S-9", "Control tank", refs, 778)
	for _, want := range []string{"These frames (non-algae) were screened before", "sample S-1 at control tank (on 2026-12-06 23:07)", "counts the same water again: both samples go into the site's trend and the programme's reports."} {
		if !strings.Contains(msg, want) {
			t.Errorf("all frames, the same site: the question lacks %q:\n%s", want, msg)
		}
	}
}

// A folder that shares a few frames with a sample screened under another model or pack
// is not that sample's water: it is asked about as frames screened before, saying how
// many, not proposed as the sample's companion ("the same water under pack ..."), which
// is kept out of the site's trend (helper-95: 200 frames, 15 of which the morning's
// sample held, were offered as FYNE-0812-B~cyano-tcb-10). The same frames all again
// still propose the companion.
func TestFewSharedFramesAreNotTheCompanion(t *testing.T) {
	h := cellHarness(t, "")
	var asked []string
	h.a.confirm = func(title, msg, yes, no string, answer func(bool)) {
		asked = append(asked, title+" ["+yes+"]\n"+msg)
		answer(false)
	}
	h.a.confirmAgain = h.a.confirm
	h.a.sample.Fill(h.a.newSample(), 0)
	first := h.a.sample.ID.Text
	h.a.startSource(capture.Cells(cellFolder(t, 2)))
	h.waitIdle()
	if h.storedObjects(first) != 2 {
		t.Fatalf("the first run stored %d objects in %s, want 2 (%v)", h.storedObjects(first), first, h.a.lastError)
	}
	h.switchToOtherModel()
	if h.a.sample.ID.Text != h.a.autoID {
		t.Fatalf("after the run the panel shows %q, the app proposed %q", h.a.sample.ID.Text, h.a.autoID)
	}
	ask := func(dir string) string {
		t.Helper()
		asked = nil
		h.a.startSource(capture.Cells(dir))
		h.pump("the question", 10*time.Second, func() bool { return len(asked) > 0 || h.a.lastError != nil })
		h.waitIdle()
		if len(asked) != 1 {
			t.Fatalf("asked %q, error %v; want one question", asked, h.a.lastError)
		}
		return asked[0]
	}
	q := ask(cellFolder(t, 8))
	if !strings.HasPrefix(q, "Screened before as "+first) || !strings.Contains(q, "at most 2 of its 8") || strings.Contains(q, first+"~") {
		t.Errorf("8 frames, 2 of them sample %s's: asked\n%s\nwant the screened-before question saying 2 of 8, no companion", first, q)
	}
	if q := ask(cellFolder(t, 2)); !strings.HasPrefix(q, "Sample "+first+" holds these frames [Screen as "+first+"~") {
		t.Errorf("the same 2 frames under the other model: asked\n%s\nwant the companion of %s", q, first)
	}
}
