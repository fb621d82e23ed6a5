package imagefile

import (
	"bytes"
	"errors"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/phytoscreen/phytoscreen/assets"
	"github.com/phytoscreen/phytoscreen/internal/testutil"
)

const mixed = "../testdata/mixed-images"

func TestReadGray(t *testing.T) {
	tests := []struct {
		file    string
		w, h    int    // expected size when it decodes
		wantErr string // substring of the error when it must not
		is      error
	}{
		{file: "good acantharia.jpg", w: 74, h: 54},
		{file: "nöctiluca ünïcode.jpg", w: 36, h: 45},
		{file: "gray16.tif", w: 49, h: 49},
		{file: "colour.tif", w: 41, h: 43},
		{file: "one-pixel.png", w: 1, h: 1},
		{file: "empty.png", wantErr: "empty file", is: ErrEmpty},
		{file: "notes.png", wantErr: "not a JPEG, PNG, TIFF or BMP", is: ErrNotImage},
		{file: "huge-header.png", wantErr: "100000x100000 pixels, more than 100 Mpx; refused before decoding (a corrupt header, or not a camera frame): a real image of that size is shrunk or cut into tiles", is: ErrTooLarge},
		{file: "truncated.jpg", wantErr: "corrupt or truncated jpeg"},
		{file: "corrupt-header.jpg", wantErr: "corrupt image header"},
		{file: "absent.png", wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(mixed, tc.file)
			img, err := ReadGray(path)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("decoded %v, want error containing %q", img.Rect, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
					t.Errorf("error %q: want it to contain %q and the path", err, tc.wantErr)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("error %q is not %v", err, tc.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if img.Rect.Dx() != tc.w || img.Rect.Dy() != tc.h {
				t.Errorf("size %dx%d, want %dx%d", img.Rect.Dx(), img.Rect.Dy(), tc.w, tc.h)
			}
		})
	}
}

// The 16-bit TIFF was made from a real 8-bit image; its gray levels must survive the
// conversion (a wrong shift would make it black or white).
func TestReadGray16BitKeepsLevels(t *testing.T) {
	img, err := ReadGray(filepath.Join(mixed, "gray16.tif"))
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := 255, 0
	for _, v := range img.Pix {
		lo, hi = min(lo, int(v)), max(hi, int(v))
	}
	if hi < 200 || lo > 120 {
		t.Errorf("gray range %d..%d: want a white background (>=200) and a dark cell (<=120)", lo, hi)
	}
}

func TestNaturalCompare(t *testing.T) {
	got := []string{"frame10.png", "frame2.png", "frame1.png", "frame02.png", "a.png", "frame1b.png", "Frame3.png"}
	slices.SortFunc(got, NaturalCompare)
	want := []string{"Frame3.png", "a.png", "frame1.png", "frame1b.png", "frame2.png", "frame02.png", "frame10.png"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCollect(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"f10.jpg", "f2.jpg", "notes.txt", "sub/f1.PNG"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A symlink loop must not trap the walk.
	if err := os.Symlink(dir, filepath.Join(dir, "sub", "loop")); err != nil {
		t.Fatal(err)
	}
	files, problems := Collect([]string{dir, filepath.Join(dir, "notes.txt"), filepath.Join(dir, "missing")})
	rel := make([]string, len(files))
	for i, f := range files {
		rel[i], _ = filepath.Rel(dir, f)
	}
	want := []string{"f2.jpg", "f10.jpg", "sub/f1.PNG", "notes.txt"}
	if !slices.Equal(rel, want) {
		t.Errorf("files %v, want %v", rel, want)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "missing: no such file") {
		t.Errorf("problems %v, want one for the missing path", problems)
	}
	// A frame-named link that loops, or whose target is gone, is a frame of the folder
	// that cannot be read (its read says why, and a run's volume leaves it out:
	// helper-82), and the link to a folder is among the files left out: none is skipped
	// without a word (helper-39).
	self, gone := filepath.Join(dir, "self.jpg"), filepath.Join(dir, "gone.jpg")
	if err := os.Symlink("self.jpg", self); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "deleted.jpg"), gone); err != nil {
		t.Fatal(err)
	}
	files, others, problems := CollectAll([]string{dir})
	if len(problems) != 0 || !slices.Contains(files, self) || !slices.Contains(files, gone) {
		t.Errorf("files %v, problems %v: want the looping and the broken link among the files", files, problems)
	}
	for _, p := range []string{self, gone} {
		if _, err := ReadGray(p); err == nil || !strings.Contains(err.Error(), "a symbolic link that leads to no readable image") || !strings.Contains(err.Error(), "fix or remove the link") {
			t.Errorf("reading %s: %v, want the link named with its fix", p, err)
		}
	}
	if !slices.Contains(others, filepath.Join(dir, "sub", "loop")) {
		t.Errorf("files left out %v, want the link to a folder among them", others)
	}
}

// A folder given through a symbolic link (a share linked into the home folder) is
// walked, its files named under the link; links inside it are still not followed.
func TestCollectFolderGivenThroughALink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "share", "frames")
	for _, f := range []string{"f2.jpg", "f10.jpg", "sub/f3.png"} {
		p := filepath.Join(real, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "share"), filepath.Join(real, "back")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "frames-link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	files, others, problems := CollectAll([]string{link})
	want := []string{filepath.Join(link, "f2.jpg"), filepath.Join(link, "f10.jpg"), filepath.Join(link, "sub", "f3.png")}
	if !slices.Equal(files, want) || len(problems) != 0 {
		t.Errorf("files %q, problems %v; want %q", files, problems, want)
	}
	if !slices.Equal(others, []string{filepath.Join(link, "back")}) {
		t.Errorf("left out %q, want the link inside, not followed", others)
	}
}

// The files and folders the operating system keeps in a folder (hidden names, the
// AppleDouble "._" twin of each image, Thumbs.db, desktop.ini, .Trashes) are neither
// images nor files left out: they are passed over without a word. A hidden folder given
// as the root is walked, and a hidden file named on its own is kept.
func TestCollectPassesOverSystemFiles(t *testing.T) {
	root := filepath.Join(t.TempDir(), ".frames")
	system := []string{".DS_Store", "._f1.jpg", "Thumbs.db", "THUMBS.DB", "desktop.ini", ".hidden.png", ".Trashes/501/old.jpg", "sub/._f2.png", "Icon\r"}
	for _, f := range append([]string{"f1.jpg", "notes.txt", "sub/f2.png"}, system...) {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, others, problems := CollectAll([]string{root, filepath.Join(root, "._f1.jpg")})
	for i := range files {
		files[i], _ = filepath.Rel(root, files[i])
	}
	if want := []string{"f1.jpg", "sub/f2.png", "._f1.jpg"}; !slices.Equal(files, want) {
		t.Errorf("files %q, want %q", files, want)
	}
	if len(others) != 1 || filepath.Base(others[0]) != "notes.txt" || len(problems) != 0 {
		t.Errorf("left out %q, problems %v: want notes.txt alone, no problem", others, problems)
	}
}

// An unreadable folder is reported with its path and a fix, and the rest of the walk
// goes on. Root reads everything, so under root the check runs as user nobody.
func TestCollectUnreadableFolder(t *testing.T) {
	if dir := os.Getenv("UNREADABLE_ROOT"); dir != "" {
		checkUnreadable(t, dir)
		return
	}
	dir := testutil.TempDirForAll(t)
	for _, f := range []string{"ok/a.jpg", "locked/b.jpg"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "locked"), 0o000); err != nil {
		t.Fatal(err)
	}
	if !testutil.IsRoot() {
		checkUnreadable(t, dir)
		return
	}
	out, err := testutil.RunAsNobody(t, "TestCollectUnreadableFolder", "UNREADABLE_ROOT="+dir)
	if err != nil {
		t.Fatalf("check as nobody failed: %v\n%s", err, out)
	}
	if !strings.Contains(out, "--- PASS: TestCollectUnreadableFolder") {
		t.Fatalf("check as nobody did not pass:\n%s", out)
	}
}

func checkUnreadable(t *testing.T, dir string) {
	files, problems := Collect([]string{dir})
	if len(files) != 1 || filepath.Base(files[0]) != "a.jpg" {
		t.Errorf("files %v, want the readable a.jpg only", files)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Path, "locked") || !strings.Contains(problems[0].Err.Error(), "permission denied") {
		t.Errorf("problems %v, want permission denied on locked/", problems)
	}
}

// A 100-byte TIFF whose header names an IFD offset near 4 GB (found by FuzzDecode) must
// be refused without allocating for the offset: before the fix it allocated 4 GB.
func TestForgedTIFFOffsetAllocatesLittle(t *testing.T) {
	data := append([]byte("II*\x00\xca\x12\xff\xff"), make([]byte, 92)...)
	for i := 8; i < len(data); i++ {
		data[i] = 0xff
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Decode(data)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("decoded a forged TIFF")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("decoding a 100-byte file allocated %d MB", alloc>>20)
	}
}

// Damaged PNG files made from a real image: cut short, a corrupted compressed block, a
// header without its data, a zero width. Each is refused with the path and the reason;
// none panics. (The JPEG counterparts are fixtures in testdata/mixed-images.)
func TestReadDamagedPNG(t *testing.T) {
	img, err := ReadGray(filepath.Join(mixed, "good acantharia.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	idat := bytes.Index(good, []byte("IDAT"))
	if idat < 0 {
		t.Fatal("no IDAT chunk in the encoded PNG")
	}
	corrupt := bytes.Clone(good)
	for i := idat + 8; i < idat+24; i++ { // inside the compressed pixels
		corrupt[i] ^= 0xff
	}
	zeroWidth := bytes.Clone(good)
	copy(zeroWidth[16:20], []byte{0, 0, 0, 0}) // IHDR width
	dir := t.TempDir()
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated.png", good[:len(good)/2], "corrupt or truncated png (png: invalid format: not enough pixel data)"},
		{"corrupt-data.png", corrupt, "corrupt or truncated png (flate: corrupt input"},
		{"header-only.png", good[:idat-4], "corrupt or truncated png (unexpected EOF)"},
		{"zero-width.png", zeroWidth, "corrupt image header (png: invalid format: non-positive dimension)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadGray(path)
			if err == nil {
				t.Fatal("decoded a damaged PNG")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "export or copy the image again") {
				t.Errorf("error %q: want the path, %q and the fix", err, c.want)
			}
		})
	}
}

// The JPEG fast path (OpenCV) gives the same gray levels as Go's decoder, within the
// rounding of two IDCTs, on the real NDSB images; a JPEG cut inside its image data is
// refused (libjpeg would fill it with gray), and bytes after the end marker are harmless.
func TestDecodeGrayJPEGMatchesGo(t *testing.T) {
	entries, err := fs.ReadDir(assets.Samples(), "protist_noctiluca")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries[:4] {
		data, err := fs.ReadFile(assets.Samples(), "protist_noctiluca/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		fast, err := DecodeGray(data)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		slow := ToGray(img)
		if fast.Rect != slow.Rect {
			t.Fatalf("%s: %v from OpenCV, %v from Go", e.Name(), fast.Rect, slow.Rect)
		}
		worst := 0
		for i := range fast.Pix {
			d := int(fast.Pix[i]) - int(slow.Pix[i])
			worst = max(worst, d, -d)
		}
		if worst > 2 {
			t.Errorf("%s: gray levels differ by up to %d", e.Name(), worst)
		}
		cut := data[:len(data)*3/4] // inside the scan
		if _, err := DecodeGray(cut); err == nil || !strings.Contains(err.Error(), "truncated jpeg") {
			t.Errorf("%s cut at 3/4: %v, want truncated", e.Name(), err)
		}
		padded := append(append([]byte(nil), data...), 0, 0, 0, 0)
		if g, err := DecodeGray(padded); err != nil || g.Rect != fast.Rect {
			t.Errorf("%s with padding after the end: %v", e.Name(), err)
		}
	}
}
