package imagefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/phytoscreen/phytoscreen/inputfile"
)

// Problem is a path that could not be used, with the reason.
type Problem struct {
	Path string
	Err  error
}

func (p Problem) Error() string { return fmt.Sprintf("%s: %v", p.Path, p.Err) }

// Collect expands paths (files or folders, folders recursively) into image files in
// natural order within each argument. A file named explicitly is kept whatever its
// extension, so that a wrong file gets its own error when decoded; inside folders only
// image extensions are taken, and system files (IsSystemFile) are passed over.
// Unreadable folders and missing paths are returned as problems and the walk goes on.
// Symbolic links to folders are not followed, so a link loop cannot trap the walk.
func Collect(paths []string) (files []string, problems []Problem) {
	files, _, problems = CollectAll(paths)
	return files, problems
}

// CollectAll is Collect that also returns the files inside the folders that were left
// out (in natural order), from the same walk, so a caller can say what it skipped
// (LeftOutError says why): regular files that are not images, links to folders, and
// what is not a regular file at all (a named pipe, a socket, a device), which is never
// opened: opening a FIFO waits for a writer. System files are in neither list: they are
// not the user's files to be told about.
func CollectAll(paths []string) (files, others []string, problems []Problem) {
	for _, root := range paths {
		fi, err := os.Stat(root)
		if err != nil {
			problems = append(problems, Problem{root, friendly(err)})
			continue
		}
		if !fi.IsDir() {
			files = append(files, root)
			continue
		}
		var found, skipped []string
		walkRoot := root
		if li, err := os.Lstat(root); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			// A folder given through a link (a lab share linked into the home folder):
			// WalkDir does not enter a linked root, and it "held no images"
			// (helper-65). With a trailing separator the link is followed, and the
			// paths found keep the name given. Links met inside are not followed.
			walkRoot = root + string(filepath.Separator)
		}
		err = filepath.WalkDir(walkRoot, func(path string, d fs.DirEntry, err error) error {
			if path != walkRoot && d != nil && IsSystemFile(d.Name()) {
				if d.IsDir() {
					return fs.SkipDir // .Trashes: unreadable, or images the user threw away
				}
				return nil
			}
			if err != nil {
				problems = append(problems, Problem{path, friendly(err)})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && IsImageName(d.Name()) {
				found = append(found, path)
			} else if d.Type()&fs.ModeSymlink != 0 && IsImageName(d.Name()) {
				st, err := os.Stat(path)
				switch {
				case err == nil && st.Mode().IsRegular():
					found = append(found, path)
				case err != nil:
					// A loop or a missing target: a frame the folder names but that cannot
					// be read, as a file without read permission is. Its read says why, and
					// the volume examined leaves it out: set apart as a problem, the link
					// was not a frame at all, and its share of the volume was counted as
					// examined (helper-82). Named, not skipped without a word (helper-39).
					found = append(found, path)
				default:
					skipped = append(skipped, path)
				}
			} else if !d.IsDir() {
				// A link to a folder is not followed, and a FIFO, socket or device is not
				// read (a FIFO named frame.jpg was left out without a word: helper-87):
				// said as skipped.
				skipped = append(skipped, path)
			}
			return nil
		})
		if err != nil {
			problems = append(problems, Problem{root, friendly(err)})
		}
		slices.SortFunc(found, NaturalCompare)
		slices.SortFunc(skipped, NaturalCompare)
		files, others = append(files, found...), append(others, skipped...)
	}
	return files, others, problems
}

// LeftOutError says why CollectAll left out path (one of its others) when it is not
// simply a file of another format: a link to a folder (FolderLinkError), or not a
// regular file (a named pipe, a socket, a device, or a link to one: errors.Is
// inputfile.ErrNotRegular). nil for a regular file, which was left out for not being an
// image: the caller says which images it reads.
func LeftOutError(path string) error {
	if err := FolderLinkError(path); err != nil {
		return err
	}
	fi, err := os.Stat(path) // a link followed; stat opens nothing, so a FIFO cannot hold it
	if err != nil || fi.Mode().IsRegular() {
		return nil
	}
	return &notFileError{inputfile.Kind(fi.Mode()) + ", not a regular file: left unread (reading a pipe, socket or device can wait for ever); put the image file itself in the folder"}
}

// notFileError is LeftOutError's for what is not a regular file; it matches
// inputfile.ErrNotRegular.
type notFileError struct{ msg string }

func (e *notFileError) Error() string { return e.msg }
func (e *notFileError) Unwrap() error { return inputfile.ErrNotRegular }

// FolderLinkError says, of a path CollectAll left out (one of its others), that it is a
// symbolic link to a folder, which the walk does not follow, and the fix; nil when it is
// not one. Called "not an image file", such a link sent the technician to look for a
// file format when a folder of frames had gone unread (helper-83).
func FolderLinkError(path string) error {
	li, err := os.Lstat(path)
	if err != nil || li.Mode()&fs.ModeSymlink == 0 {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		target = path
	}
	return fmt.Errorf("a link to the folder %s, not an image: links to folders are not followed (a link could lead back into the folder); give that folder itself to read its images", target)
}

// systemNames are the files and folders Windows makes in the folders it shows or on the
// drives it mounts (compared ignoring case, as Windows names them).
var systemNames = []string{"Thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini", "$RECYCLE.BIN", "System Volume Information"}

// IsSystemFile reports whether a name found in a folder is a file or folder the operating
// system keeps there rather than one of the user's: a hidden name (a leading dot:
// .DS_Store, the AppleDouble "._IMG_0001.jpg" macOS writes beside every file it copies
// to a USB or network drive, which holds no pixels despite its name, .Trashes,
// .Spotlight-V100) and Windows' Thumbs.db, desktop.ini and the like. A folder walk
// passes over them without a word: counted as skipped or unreadable frames, they had a
// run report files it never lost. An image whose name starts with a dot is hidden by
// the same convention (Finder, Explorer and ls do not show it), so it is passed over
// too; named on its own it is read like any file.
func IsSystemFile(name string) bool {
	if strings.HasPrefix(name, ".") || name == "Icon\r" { // Icon\r: a macOS folder's custom icon
		return true
	}
	for _, s := range systemNames {
		if strings.EqualFold(name, s) {
			return true
		}
	}
	return false
}

func friendly(err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("permission denied: give the user read access (chmod +r) or skip it")
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("no such file or folder")
	}
	return err
}

// NaturalCompare orders strings with digit runs compared as numbers, so frame2.png comes
// before frame10.png.
func NaturalCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si := i
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			sj := j
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na, nb := trimZeros(a[si:i]), trimZeros(b[sj:j])
			if len(na) != len(nb) {
				return cmpInt(len(na), len(nb))
			}
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			if d := cmpInt(i-si, j-sj); d != 0 { // fewer leading zeros first
				return d
			}
			continue
		}
		if ca != cb {
			return cmpInt(int(ca), int(cb))
		}
		i++
		j++
	}
	return cmpInt(len(a)-i, len(b)-j)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
