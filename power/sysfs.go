package power

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DefaultRoot is where the kernel's sysfs is mounted.
const DefaultRoot = "/sys"

// Sysfs reads kernel attribute files below Root. Tests point Root at a fake tree and may
// replace ReadFile to simulate files the process may not read (a test running as root can
// read a chmod 000 file, so permissions cannot be simulated on disk there).
type Sysfs struct {
	Root     string                            // default DefaultRoot
	ReadFile func(name string) ([]byte, error) // default os.ReadFile
}

func (s Sysfs) root() string {
	if s.Root == "" {
		return DefaultRoot
	}
	return s.Root
}

// Path returns the absolute file name of rel ("class/powercap") below the root.
func (s Sysfs) Path(rel string) string { return filepath.Join(s.root(), rel) }

// Rel returns a path below the root as the kernel names it ("/sys/class/..."), for
// messages that the user can paste whatever root the tests used.
func (s Sysfs) Rel(abs string) string {
	r, err := filepath.Rel(s.root(), abs)
	if err != nil || strings.HasPrefix(r, "..") {
		return abs
	}
	return filepath.Join(DefaultRoot, r)
}

func (s Sysfs) readFile(name string) ([]byte, error) {
	if s.ReadFile != nil {
		return s.ReadFile(name)
	}
	return os.ReadFile(name)
}

// String reads an attribute file and trims the trailing newline.
func (s Sysfs) String(name string) (string, error) {
	b, err := s.readFile(name)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// Uint reads an attribute file holding one unsigned decimal number.
func (s Sysfs) Uint(name string) (uint64, error) {
	v, err := s.String(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s holds %q, not a whole number", s.Rel(name), v)
	}
	return n, nil
}

// Int reads an attribute file holding one signed decimal number (battery currents can be
// negative while discharging on some drivers).
func (s Sysfs) Int(name string) (int64, error) {
	v, err := s.String(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s holds %q, not a whole number", s.Rel(name), v)
	}
	return n, nil
}

// Exists reports whether name exists (readable or not).
func (s Sysfs) Exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

// Glob returns the matches of a pattern below the root, sorted naturally so that hwmon10
// follows hwmon9.
func (s Sysfs) Glob(pattern string) []string { return globSorted(s.Path(pattern)) }

// globSorted returns the matches of an absolute pattern in natural order.
func globSorted(pattern string) []string {
	m, _ := filepath.Glob(pattern)
	sort.Slice(m, func(i, j int) bool { return naturalLess(m[i], m[j]) })
	return m
}

// naturalLess orders digit runs by value.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			na, ra := leadingNumber(a)
			nb, rb := leadingNumber(b)
			if na != nb {
				return na < nb
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func leadingNumber(s string) (uint64, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	n, _ := strconv.ParseUint(s[:i], 10, 64)
	return n, s[i:]
}

// IsPermission reports whether err means the file exists but this user may not read it.
func IsPermission(err error) bool { return errors.Is(err, fs.ErrPermission) }
