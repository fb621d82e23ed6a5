package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/inputfile"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
	"github.com/phytoscreen/phytoscreen/synth"
	"gocv.io/x/gocv"
)

// frame is a test frame: a flat gray field of w x h with one dark disk at its centre.
type frame struct{ w, h int }

// writeFramePNG writes a frame as a PNG file.
func writeFramePNG(t *testing.T, path string, fr frame) {
	t.Helper()
	g := image.NewGray(image.Rect(0, 0, fr.w, fr.h))
	cx, cy, r := fr.w/2, fr.h/2, min(fr.w, fr.h)/8
	for y := range fr.h {
		for x := range fr.w {
			g.Pix[y*g.Stride+x] = 200
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
				g.Pix[y*g.Stride+x] = 100
			}
		}
	}
	// A camera's frames always differ by their noise: so do these (the source leaves
	// out a frame whose pixels it has read before).
	g.Pix[0] = byte(len(filepath.Base(path))*31 + int(filepath.Base(path)[len(filepath.Base(path))-5]))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, g); err != nil {
		t.Fatal(err)
	}
}

// statusLog collects statuses instead of logging them.
type statusLog struct{ events []Status }

func (l *statusLog) add(s Status) { l.events = append(l.events, s) }

func (l *statusLog) count(k StatusKind) int {
	n := 0
	for _, e := range l.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// smallVideo writes a generated MJPG video of n frames and returns its path and truth.
func smallVideo(t *testing.T, dir string, n int) (string, *synth.VideoTruth) {
	t.Helper()
	lib, err := synth.DefaultLibrary()
	if err != nil {
		t.Fatal(err)
	}
	g, err := synth.New(lib, synth.Options{Width: 320, Height: 240, Cells: 3, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "clip.avi")
	vt, err := g.WriteVideo(context.Background(), path, n, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	return path, vt
}

// drain reads a source to its end, closing every frame, and returns the frames' sources
// and sizes and the error that ended it.
func drain(t *testing.T, src Source) (names []string, sizes []image.Point, err error) {
	t.Helper()
	for {
		f, err := src.Next(context.Background())
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return names, sizes, err
		}
		names = append(names, filepath.Base(f.Source))
		sizes = append(sizes, image.Pt(f.Mat.Cols(), f.Mat.Rows()))
		f.Mat.Close()
	}
}

// TestFolderSourceBadFiles: a folder with non-image files, a zero-byte frame, a corrupt
// frame and a frame of another size: every good frame is read in natural order, every
// bad file is reported with its reason, nothing crashes.
func TestFolderSourceBadFiles(t *testing.T) {
	dir := t.TempDir()
	sc := frame{w: 160, h: 120}
	writeFramePNG(t, filepath.Join(dir, "frame1.png"), sc)
	writeFramePNG(t, filepath.Join(dir, "frame2.png"), sc)
	writeFramePNG(t, filepath.Join(dir, "frame10.png"), sc)
	writeFramePNG(t, filepath.Join(dir, "frame5.png"), frame{w: 200, h: 100})
	for name, data := range map[string]string{
		"frame3.jpg": "",                       // zero bytes
		"frame4.jpg": "not a jpeg at all",      // corrupt
		"notes.txt":  "the technician's notes", // not an image
		"frame6.png": "\x89PNG\r\n\x1a\n\x00",  // truncated header
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A frame behind a link whose target is gone is one the folder names: the run
	// expects it (Len), so its share of the volume is not counted as examined (helper-82).
	if err := os.Symlink(filepath.Join(dir, "deleted.png"), filepath.Join(dir, "frame7.png")); err != nil {
		t.Fatal(err)
	}
	var log statusLog
	src, err := OpenFolder(dir, log.add)
	if err != nil {
		t.Fatal(err)
	}
	if n := src.Len(); n != 8 {
		t.Errorf("Len %d, want 8: the 7 frame files and the link among them", n)
	}
	names, sizes, err := drain(t, src)
	if err != nil {
		t.Fatalf("source ended with %v", err)
	}
	if got, want := strings.Join(names, " "), "frame1.png frame2.png frame5.png frame10.png"; got != want {
		t.Errorf("frames %q, want %q", got, want)
	}
	if sizes[2] != image.Pt(200, 100) {
		t.Errorf("frame5 size %v, want 200x100", sizes[2])
	}
	want := map[string]string{
		"notes.txt":  "not an image file",
		"frame3.jpg": "empty file",
		"frame4.jpg": "not a JPEG, PNG, TIFF or BMP",
		"frame6.png": "corrupt",
		"frame7.png": "a symbolic link that leads to no readable image (no such file or folder): fix or remove the link",
	}
	for _, e := range log.events {
		t.Logf("status: %v", e)
		if e.Kind != StatusSkipped {
			t.Errorf("unexpected status %v", e)
			continue
		}
		base := filepath.Base(e.Path)
		if w, ok := want[base]; ok && strings.Contains(e.Err.Error(), w) {
			delete(want, base)
		}
	}
	for f, w := range want {
		t.Errorf("%s: no skipped status saying %q", f, w)
	}
}

// TestFolderSourceLinkToFolderNamed: a link in a frames folder that leads to a folder
// (another day's frames) is not followed, and its skip says it is a folder with the fix,
// not "not an image file", which sent the technician to look at file formats
// (helper-83); a file beside it that is not an image keeps its own reason.
func TestFolderSourceLinkToFolderNamed(t *testing.T) {
	dir := t.TempDir()
	frames, day2 := filepath.Join(dir, "frames"), filepath.Join(dir, "day2")
	for _, d := range []string{frames, day2} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFramePNG(t, filepath.Join(frames, "frame1.png"), frame{w: 160, h: 120})
	writeFramePNG(t, filepath.Join(day2, "frame1.png"), frame{w: 160, h: 120})
	if err := os.WriteFile(filepath.Join(frames, "notes.txt"), []byte("notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{"day2", "day2.png"} { // with an image's name too
		if err := os.Symlink(day2, filepath.Join(frames, link)); err != nil {
			t.Fatal(err)
		}
	}
	var log statusLog
	src, err := OpenFolder(frames, log.add)
	if err != nil {
		t.Fatal(err)
	}
	if n := src.Len(); n != 1 {
		t.Errorf("Len %d, want 1: the links to a folder are not frames", n)
	}
	want := map[string]string{
		"day2":      "a link to the folder " + day2 + ", not an image: links to folders are not followed",
		"day2.png":  "a link to the folder " + day2 + ", not an image: links to folders are not followed",
		"notes.txt": "not an image file (frames must be .jpg, .jpeg, .png, .tif, .tiff or .bmp)",
	}
	for _, e := range log.events {
		t.Logf("status: %v", e)
		base := filepath.Base(e.Path)
		w, ok := want[base]
		if e.Kind != StatusSkipped || !ok {
			t.Errorf("unexpected status %v", e)
			continue
		}
		if msg := e.Err.Error(); !strings.Contains(msg, w) || (base != "notes.txt" && (strings.Contains(msg, "not an image file") || !strings.Contains(msg, "give that folder itself"))) {
			t.Errorf("%s: %q, want %q and the fix", base, msg, w)
		}
		delete(want, base)
	}
	for f, w := range want {
		t.Errorf("%s: no skipped status saying %q", f, w)
	}
}

// TestFolderSourceNonFilesNamed: a named pipe, a socket and a device in a frames
// folder, named as frames or not, or behind a link with a frame's name, are never
// opened (opening a FIFO waits for a writer: the run would hang), and each is said as
// skipped with what it is and the fix, as other files left out are: they were left out
// without a word (helper-87). The frames beside them are read. A regression that opens
// one fails on the timeout instead of hanging the test.
func TestFolderSourceNonFilesNamed(t *testing.T) {
	dir := t.TempDir()
	writeFramePNG(t, filepath.Join(dir, "frame1.png"), frame{w: 160, h: 120})
	writeFramePNG(t, filepath.Join(dir, "frame3.png"), frame{w: 160, h: 120})
	for _, name := range []string{"frame2.jpg", "pipe"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sock, err := net.Listen("unix", filepath.Join(dir, "frame4.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	for link, target := range map[string]string{"frame5.jpg": filepath.Join(dir, "frame2.jpg"), "frame6.tif": "/dev/zero"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		names []string
		err   error
		log   statusLog
	}
	done := make(chan result, 1)
	go func() {
		var r result
		src, err := OpenFolder(dir, r.log.add)
		if err != nil {
			r.err = err
		} else {
			r.names, _, r.err = drain(t, src)
		}
		done <- r
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the folder source still reading after 20 s: it opened a FIFO or a device")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := strings.Join(r.names, " "); got != "frame1.png frame3.png" {
		t.Errorf("frames read %q, want frame1.png frame3.png", got)
	}
	const fix = ", not a regular file: left unread (reading a pipe, socket or device can wait for ever); put the image file itself in the folder"
	want := map[string]string{
		"frame2.jpg": "a named pipe (FIFO)" + fix,
		"pipe":       "a named pipe (FIFO)" + fix,
		"frame4.png": "a socket" + fix,
		"frame5.jpg": "a named pipe (FIFO)" + fix,
		"frame6.tif": "a character device" + fix,
	}
	for _, e := range r.log.events {
		t.Logf("status: %v", e)
		base := filepath.Base(e.Path)
		w, ok := want[base]
		if e.Kind != StatusSkipped || !ok {
			t.Errorf("unexpected status %v", e)
			continue
		}
		if e.Err.Error() != w || !errors.Is(e.Err, inputfile.ErrNotRegular) {
			t.Errorf("%s skipped: %q, want %q", base, e.Err, w)
		}
		delete(want, base)
	}
	for f, w := range want {
		t.Errorf("%s: no skipped status saying %q", f, w)
	}
}

// TestFolderSourceUnreadableFile: a frame file the user may not read, among readable
// ones, is reported as skipped with its path, the reason and the fix, and every other
// frame is read. Root reads every file, so under root the check runs as user nobody.
func TestFolderSourceUnreadableFile(t *testing.T) {
	if dir := os.Getenv("UNREADABLE_FRAMES"); dir != "" {
		checkUnreadableFrame(t, dir)
		return
	}
	dir := testutil.TempDirForAll(t)
	sc := frame{w: 160, h: 120}
	for _, name := range []string{"frame1.png", "frame2.png", "frame3.png"} {
		writeFramePNG(t, filepath.Join(dir, name), sc)
	}
	if err := os.Chmod(filepath.Join(dir, "frame2.png"), 0o000); err != nil {
		t.Fatal(err)
	}
	if !testutil.IsRoot() {
		checkUnreadableFrame(t, dir)
		return
	}
	out, err := testutil.RunAsNobody(t, "TestFolderSourceUnreadableFile", "UNREADABLE_FRAMES="+dir)
	t.Log(out)
	if err != nil || !strings.Contains(out, "--- PASS: TestFolderSourceUnreadableFile") {
		t.Fatalf("check as nobody did not pass (%v):\n%s", err, out)
	}
}

func checkUnreadableFrame(t *testing.T, dir string) {
	var log statusLog
	src, err := OpenFolder(dir, log.add)
	if err != nil {
		t.Fatal(err)
	}
	names, _, err := drain(t, src)
	if err != nil {
		t.Fatalf("source ended with %v", err)
	}
	if got := strings.Join(names, " "); got != "frame1.png frame3.png" {
		t.Errorf("frames %q, want frame1.png frame3.png", got)
	}
	if len(log.events) != 1 {
		t.Fatalf("statuses %v, want one skip", log.events)
	}
	e := log.events[0]
	t.Logf("status: %v", e)
	if e.Kind != StatusSkipped || filepath.Base(e.Path) != "frame2.png" || !errors.Is(e.Err, os.ErrPermission) ||
		!strings.Contains(e.Err.Error(), "chmod +r") || !strings.Contains(e.Err.Error(), e.Path) {
		t.Errorf("status %v: want frame2.png skipped, permission denied, naming the file and the fix", e)
	}
}

func TestOpenSpecs(t *testing.T) {
	dir := t.TempDir()
	video, _ := smallVideo(t, dir, 4)
	img := filepath.Join(dir, "one.png")
	writeFramePNG(t, img, frame{w: 64, h: 48})
	frames := filepath.Join(dir, "frames")
	if err := os.Mkdir(frames, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFramePNG(t, filepath.Join(frames, "f1.png"), frame{w: 64, h: 48})
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"notes.txt": "x", "zero.avi": "", "fake.avi": "this is not a video"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A FIFO named as a video or an image: OpenCV's open would wait for a writer for ever.
	for _, name := range []string{"pipe.avi", "pipe.png"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		spec     string
		frames   int
		errWords string // the error must say this
		// Check says it too, before any open: what a command says first (a camera
		// and a file that does not decode are found out by opening them).
		checked bool
	}{
		{video, 4, "", false},
		{filepath.Join(dir, "pipe.avi"), 0, "pipe.avi is a named pipe (FIFO), not a file: give a regular file", true},
		{filepath.Join(dir, "pipe.png"), 0, "pipe.png is a named pipe (FIFO), not a file: give a regular file", true},
		{"/dev/zero", 0, "/dev/zero is a character device, not a file", true},
		{img, 1, "", false},
		{frames, 1, "", false},
		{filepath.Join(dir, "missing.avi"), 0, "no such file or folder", true},
		{filepath.Join(dir, "missing"), 0, "no such file or folder", true},
		{filepath.Join(dir, "notes.txt"), 0, "not a folder, an image", true},
		{filepath.Join(dir, "zero.avi"), 0, "empty file", false},
		{filepath.Join(dir, "fake.avi"), 0, "cannot decode", false},
		{empty, 0, "no image files", false},
		{"camera:", 0, "name the camera", false},
		{"camera:97", 0, "/dev/video97", false},
		{"camera:/dev/video98", 0, "/dev/video98", false},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.spec), func(t *testing.T) {
			sp, err := ParseSpec(c.spec)
			if err == nil {
				if cerr := Check(sp); c.checked != (cerr != nil) || (cerr != nil && !strings.Contains(cerr.Error(), c.errWords)) {
					t.Errorf("Check: %v; want an error saying %q: %v", cerr, c.errWords, c.checked)
				}
			}
			var src Source
			if err == nil {
				src, err = Open(sp, OpenOptions{OnStatus: func(Status) {}})
			}
			if c.errWords != "" {
				if err == nil {
					src.Close()
					t.Fatalf("no error, want one saying %q", c.errWords)
				}
				if !strings.Contains(err.Error(), c.errWords) {
					t.Fatalf("error %q does not say %q", err, c.errWords)
				}
				t.Logf("error: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			names, _, err := drain(t, src)
			if err != nil || len(names) != c.frames {
				t.Errorf("%d frames, end %v; want %d frames", len(names), err, c.frames)
			}
		})
	}
}

// TestAbsentCamera: a camera index with no device is an error that names the device and
// says what is there, with ErrNoCamera to test for.
func TestAbsentCamera(t *testing.T) {
	_, err := OpenCameraDevice("99", CameraOptions{})
	if !errors.Is(err, ErrNoCamera) {
		t.Fatalf("error %v, want ErrNoCamera", err)
	}
	if !strings.Contains(err.Error(), "camera:99") || !strings.Contains(err.Error(), "/dev/video99") {
		t.Errorf("error %q should name camera:99 and /dev/video99", err)
	}
	t.Logf("error: %v", err)
}

// TestVideoTruncated: a video cut short ends with ErrTruncated after the frames that
// could be read; an intact one ends with io.EOF after all of them.
func TestVideoTruncated(t *testing.T) {
	dir := t.TempDir()
	path, _ := smallVideo(t, dir, 20)
	src, err := OpenVideo(path)
	if err != nil {
		t.Fatal(err)
	}
	names, _, err := drain(t, src)
	src.Close()
	if err != nil || len(names) != 20 {
		t.Fatalf("intact video: %d frames, end %v; want 20 frames and io.EOF", len(names), err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.avi")
	if err := os.WriteFile(cut, data[:len(data)*6/10], 0o644); err != nil {
		t.Fatal(err)
	}
	src, err = OpenVideo(cut)
	if err != nil {
		t.Fatalf("open the cut video: %v (it holds readable frames)", err)
	}
	defer src.Close()
	names, _, err = drain(t, src)
	t.Logf("cut video: %d frames read, then: %v", len(names), err)
	if !errors.Is(err, ErrTruncated) || len(names) == 0 || len(names) >= 20 {
		t.Errorf("cut video: %d frames, end %v; want some frames, then ErrTruncated", len(names), err)
	}
}

// TestVideoUnknownCodec: a video OpenCV cannot decode (the demo with its FourCC changed
// to one no decoder knows, a text file named .avi, a RIFF header with nothing after it)
// is refused when opened, with one line naming the file and, when the header names it,
// the codec and how to convert it; through Open (a source spec) too.
func TestVideoUnknownCodec(t *testing.T) {
	dir := t.TempDir()
	demo := assets.DemoVideo()
	bogus := bytes.Clone(demo)
	// The demo's stream header and bitmap header both say MJPG; a codec nobody has:
	n := bytes.Count(bogus, []byte("MJPG"))
	bogus = bytes.ReplaceAll(bogus, []byte("MJPG"), []byte("QQ9Z"))
	if n < 2 {
		t.Fatalf("the demo video names MJPG %d times, want the stream and bitmap headers", n)
	}
	cases := []struct {
		name  string
		data  []byte
		words []string // the error must say these (besides the path)
	}{
		{"bogus fourcc.avi", bogus, []string{`codec "QQ9Z"`, "convert it to MJPG AVI", "ffmpeg -i"}},
		{"notes.avi", []byte("field notes, not a video\n"), []string{"cannot decode it", "MJPG AVI always works"}},
		{"header only.avi", []byte("RIFF\x04\x00\x00\x00AVI "), []string{"cannot decode it"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			for how, open := range map[string]func() (Source, error){
				"OpenVideo": func() (Source, error) { return OpenVideo(path) },
				"Open":      func() (Source, error) { return Open(MustParseSpec(path), OpenOptions{OnStatus: func(Status) {}}) },
			} {
				src, err := open()
				if err == nil {
					src.Close()
					t.Fatalf("%s opened it", how)
				}
				msg := err.Error()
				for _, w := range append([]string{path}, c.words...) {
					if !strings.Contains(msg, w) {
						t.Errorf("%s: error %q does not say %q", how, msg, w)
					}
				}
				if strings.Contains(msg, "\n") {
					t.Errorf("%s: error %q is not one line", how, msg)
				}
				t.Logf("%s: %v", how, err)
			}
		})
	}
}

// fakeCamera is a Device whose reads follow a script: true delivers a frame, false a
// failed read.
type fakeCamera struct {
	script []bool
	pos    *int
	closed *int
}

func (c fakeCamera) Read(m *gocv.Mat) bool {
	i := *c.pos
	*c.pos++
	if i >= len(c.script) || !c.script[i] {
		return false
	}
	f := gocv.NewMatWithSize(48, 64, gocv.MatTypeCV8UC3)
	f.CopyTo(m)
	f.Close()
	return true
}

func (c fakeCamera) Close() error { *c.closed++; return nil }

// TestCameraRetry: a camera that stops delivering frames is reported lost, reopened with
// growing delays, reported back, and its frames go on with the next index; when it does
// not come back, the source ends with ErrCameraLost. The fake device and a fake clock
// stand in for the hardware.
func TestCameraRetry(t *testing.T) {
	cases := []struct {
		name      string
		script    []bool  // reads, across reopenings
		opens     []error // result of each open after the first
		attempts  int
		wantIdx   []int
		wantEnd   error
		wantWaits []time.Duration
	}{
		{
			name:      "unplugged, back at the third attempt",
			script:    []bool{true, true, false, false, false, true, true},
			opens:     []error{errors.New("busy"), errors.New("no device"), nil},
			attempts:  5,
			wantIdx:   []int{0, 1, 2, 3},
			wantEnd:   ErrCameraLost, // the script runs out: lost again, opens fail
			wantWaits: []time.Duration{100, 200, 400, 100, 200, 400, 800, 800},
		},
		{
			name:      "never comes back",
			script:    []bool{true, false, false, false},
			opens:     nil,
			attempts:  3,
			wantIdx:   []int{0},
			wantEnd:   ErrCameraLost,
			wantWaits: []time.Duration{100, 200, 400},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pos, closed, opened := 0, 0, 0
			open := func() (Device, error) {
				opened++
				if opened > 1 {
					k := opened - 2
					if k >= len(c.opens) || c.opens[k] != nil {
						if k < len(c.opens) {
							return nil, c.opens[k]
						}
						return nil, errors.New("no such device")
					}
				}
				return fakeCamera{script: c.script, pos: &pos, closed: &closed}, nil
			}
			var waits []time.Duration
			var log statusLog
			opt := CameraOptions{LostAfter: 3, Retry: 100, RetryMax: 800, Attempts: c.attempts, OnStatus: log.add,
				sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return ctx.Err() }}
			src, err := OpenCamera("camera:fake", open, opt)
			if err != nil {
				t.Fatal(err)
			}
			var idx []int
			for {
				f, err := src.Next(context.Background())
				if err != nil {
					if !errors.Is(err, c.wantEnd) {
						t.Errorf("ended with %v, want %v", err, c.wantEnd)
					}
					t.Logf("ended: %v", err)
					break
				}
				idx = append(idx, f.Index)
				f.Mat.Close()
			}
			src.Close()
			if fmt.Sprint(idx) != fmt.Sprint(c.wantIdx) {
				t.Errorf("frame indexes %v, want %v", idx, c.wantIdx)
			}
			if fmt.Sprint(waits) != fmt.Sprint(c.wantWaits) {
				t.Errorf("waits %v, want %v", waits, c.wantWaits)
			}
			if log.count(StatusLost) == 0 || log.count(StatusRetrying) == 0 {
				t.Errorf("statuses %v: want lost and retrying reported", log.events)
			}
			if closed != log.count(StatusLost) {
				t.Errorf("device closed %d times, lost %d times: want one close per loss", closed, log.count(StatusLost))
			}
			for _, e := range log.events {
				t.Logf("status: %v", e)
			}
		})
	}
}

// TestCameraCancel: an interrupted wait between reconnection attempts ends the source
// with the context's error at once.
func TestCameraCancel(t *testing.T) {
	pos, closed := 0, 0
	first := true
	open := func() (Device, error) {
		if first {
			first = false
			return fakeCamera{script: nil, pos: &pos, closed: &closed}, nil
		}
		return nil, errors.New("gone")
	}
	ctx, cancel := context.WithCancel(context.Background())
	src, err := OpenCamera("camera:fake", open, CameraOptions{LostAfter: 1, Retry: time.Hour, Attempts: -1, OnStatus: func(Status) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err = src.Next(ctx)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("Next returned %v after %v; want context.Canceled promptly", err, time.Since(start))
	}
}

// TestParseSpec: every form a user writes is read, written back unchanged and described
// for people; nonsense is an error naming the fix.
func TestParseSpec(t *testing.T) {
	cases := []struct {
		in       string
		kind     Kind
		path     string
		describe string
	}{
		{"demo", KindDemo, "", "the bundled demo video"},
		{"camera:0", KindCamera, "0", "camera 0"},
		{"camera:/dev/video2", KindCamera, "/dev/video2", "camera /dev/video2"},
		{"/dev/video3", KindCamera, "/dev/video3", "camera /dev/video3"},
		{"cells:/data/crops", KindCells, "/data/crops", "crops"},
		{"/data/run1.AVI", KindVideo, "/data/run1.AVI", "run1.AVI"},
		{"frame 7.png", KindImage, "frame 7.png", "frame 7.png"},
		{"/data/frames-0612", KindFolder, "/data/frames-0612", "frames-0612"},
	}
	for _, c := range cases {
		sp, err := ParseSpec(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if sp.Kind != c.kind || sp.Path != c.path || sp.Describe() != c.describe {
			t.Errorf("%q: kind %v path %q describe %q; want %v %q %q", c.in, sp.Kind, sp.Path, sp.Describe(), c.kind, c.path, c.describe)
		}
		want := c.in
		if c.in == "/dev/video3" {
			want = "camera:/dev/video3"
		}
		if back, err := ParseSpec(sp.String()); err != nil || back != sp || sp.String() != want {
			t.Errorf("%q: written back as %q (%v), read again as %+v", c.in, sp.String(), err, back)
		}
	}
	for _, bad := range []string{"", "  ", "camera:", "cells:"} {
		if _, err := ParseSpec(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if !Camera("0").Live() || Demo.Live() || !Demo.Stream() || Cells("x").Stream() || !Cells("x").Files() {
		t.Error("Live, Stream or Files wrong")
	}
}

// TestOpenGray: a folder opened with Gray gives gray frames of its colour JPEGs; without
// it, their colour. Both turn the frame upright (its EXIF orientation makes the stored
// 320x240 a 240x320 frame).
func TestOpenGray(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../testdata/real-frames/closterium-20230608155607.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.jpg"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, gray := range []bool{false, true} {
		src, err := Open(Spec{Kind: KindFolder, Path: dir}, OpenOptions{Gray: gray})
		if err != nil {
			t.Fatal(err)
		}
		f, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := gocv.MatTypeCV8UC3
		if gray {
			want = gocv.MatTypeCV8UC1
		}
		if f.Mat.Type() != want || f.Mat.Cols() != 240 || f.Mat.Rows() != 320 {
			t.Errorf("gray %v: frame type %v, %dx%d; want %v, 240x320", gray, f.Mat.Type(), f.Mat.Cols(), f.Mat.Rows(), want)
		}
		f.Mat.Close()
		src.Close()
	}
}

// VideoFrame gives frame k of a video in its colours, the same pixels as reading the
// video to it; a frame past the end is an error naming it.
func TestVideoFrame(t *testing.T) {
	const path = "../assets/demo/demo.avi"
	src, err := OpenVideo(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var want image.Image
	for i := 0; i <= 20; i++ {
		f, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if i == 20 {
			want, err = f.Mat.ToImage()
			if err != nil {
				t.Fatal(err)
			}
		}
		f.Mat.Close()
	}
	got, err := VideoFrame(path, 20)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	for y := 0; y < got.Bounds().Dy(); y += 13 {
		for x := 0; x < got.Bounds().Dx(); x += 13 {
			if got.At(x, y) != want.At(x, y) {
				t.Fatalf("pixel %d,%d: %v, read in order %v", x, y, got.At(x, y), want.At(x, y))
			}
		}
	}
	if _, err := VideoFrame(path, 500); err == nil || !strings.Contains(err.Error(), "no frame 500") {
		t.Errorf("frame past the end: %v", err)
	}
}

// Absolute makes a relative folder absolute and resolves a link to it; a missing path is
// only made absolute; a camera is left alone.
func TestSpecAbsolute(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "frames")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	realResolved, _ := filepath.EvalSymlinks(real)
	for _, c := range []struct{ in, want string }{
		{"frames", realResolved},
		{"link", realResolved},
		{"missing", filepath.Join(dir, "missing")},
		{"camera:0", "camera:0"},
		{"demo", "demo"},
	} {
		sp, err := MustParseSpec(c.in).Absolute()
		if err != nil || sp.String() != c.want {
			t.Errorf("%s: %q, %v; want %q", c.in, sp.String(), err, c.want)
		}
	}
}
