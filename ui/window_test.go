package ui

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/app"
)

// childEnv marks the test binary started as the real app (see TestMain).
const childEnv = "PHYTOSCREEN_UI_WINDOW_CHILD"

// TestMain runs the real app instead of the tests when the window test starts this
// binary as its child: the graphics driver needs the process's main goroutine, which
// only TestMain has.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		err := Run(context.Background(), Options{Screenshots: dir, Build: app.BuildOptions{
			DB: filepath.Join(dir, "sessions.db"), DemoDir: os.Getenv(childEnv + "_DEMO"), MeasureFor: time.Second}})
		if err != nil {
			fmt.Fprintln(os.Stderr, "phytoscreen:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRealWindowDemo opens the real window on the display (run it under xvfb-run),
// screens the bundled demo video with the real model until an alert shows, saves
// screenshots of the main window, the gallery, history and the settings, and checks
// them: the right size, an alert banner in the alert colour, coloured outlines on the
// frame, and nothing logged by Fyne as an error. It runs the app under LANG=C.
// With PHYTOSCREEN_SCREENSHOTS=DIR it also copies the pictures there (docs/screenshots).
func TestRealWindowDemo(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no $DISPLAY: run under xvfb-run -s \"-screen 0 1600x1000x24\" to open the real window")
	}
	if testing.Short() {
		t.Skip("opens the real window for about a minute")
	}
	dir := t.TempDir()
	home := t.TempDir()
	demo := os.Getenv("PHYTOSCREEN_DEMO_CACHE") // reuse a made demo video between runs
	if demo == "" {
		demo = filepath.Join(home, "demo")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childEnv+"_DEMO="+demo,
		"LANG=C", "LC_ALL=", "LC_MESSAGES=", "LANGUAGE=",
		"HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_DATA_HOME="+filepath.Join(home, "data"))
	out, err := cmd.CombinedOutput()
	log := string(out)
	if err != nil {
		t.Fatalf("the app failed: %v\n%s", err, log)
	}
	for _, bad := range []string{"Fyne error", "panic:", "DATA RACE", "level=ERROR", " ERROR "} {
		if strings.Contains(log, bad) {
			t.Errorf("the app's log has %q:\n%s", bad, log)
		}
	}
	main := readPNG(t, filepath.Join(dir, "main.png"))
	if main.Bounds().Size() != image.Pt(1600, 1000) {
		t.Errorf("main window picture is %v, want 1600x1000", main.Bounds().Size())
	}
	// The alert banner spans the window under the toolbar, in the alert red.
	if n := countNear(main, image.Rect(0, 60, 1600, 140), colorAlert.R, colorAlert.G, colorAlert.B, 12); n < 20000 {
		t.Errorf("only %d alert-red pixels in the banner area: no alert showing?", n)
	}
	// The live view has outlines in taxon colours (saturated pixels) on the gray frame.
	if n := countSaturated(main, image.Rect(0, 180, 980, 680)); n < 300 {
		t.Errorf("only %d coloured pixels in the live view: no outlines?", n)
	}
	for _, name := range []string{"gallery.png", "history.png", "settings.png"} {
		img := readPNG(t, filepath.Join(dir, name))
		if img.Bounds().Dx() < 900 || uniform(img) {
			t.Errorf("%s is %v and uniform=%v", name, img.Bounds().Size(), uniform(img))
		}
	}
	if to := os.Getenv("PHYTOSCREEN_SCREENSHOTS"); to != "" {
		if err := os.MkdirAll(to, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"main.png", "gallery.png", "history.png", "settings.png"} {
			copyFile(t, filepath.Join(dir, name), filepath.Join(to, name))
		}
		t.Logf("screenshots copied to %s", to)
	}
	t.Logf("app log:\n%s", log)
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// countNear counts the pixels of r within tol of the colour (r8, g8, b8).
func countNear(img image.Image, r image.Rectangle, r8, g8, b8 uint8, tol int) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if abs(int(cr>>8)-int(r8)) <= tol && abs(int(cg>>8)-int(g8)) <= tol && abs(int(cb>>8)-int(b8)) <= tol {
				n++
			}
		}
	}
	return n
}

// countSaturated counts clearly coloured (not gray) pixels in r.
func countSaturated(img image.Image, r image.Rectangle) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			hi := max(cr, cg, cb) >> 8
			lo := min(cr, cg, cb) >> 8
			if hi-lo > 80 {
				n++
			}
		}
	}
	return n
}

func uniform(img image.Image) bool {
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			if img.At(x, y) != first {
				return false
			}
		}
	}
	return true
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
