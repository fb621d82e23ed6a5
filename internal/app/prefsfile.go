package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"

	"github.com/phytoscreen/phytoscreen/inputfile"
)

// UnreadablePrefsError says that the preferences file did not read at launch, where it
// was kept, and that the app runs on the default settings. Fyne reads the file itself
// and, when it does not parse (cut short by a power cut while Fyne saved it, edited by
// hand), starts on empty preferences with one log line ("Preferences load error:
// unexpected EOF") and writes the defaults over the file at its next save: every setting
// was lost without a word, the user's file with them.
type UnreadablePrefsError struct {
	File    string // the preferences file
	Kept    string // where the unreadable file was moved ("" when it was not)
	Cause   error  // why it did not read
	KeepErr error  // why it could not be moved aside (nil when it was, or was empty)
	Empty   bool   // the file held nothing: there was nothing to keep
}

func (e *UnreadablePrefsError) Error() string {
	switch {
	case e.Empty:
		return fmt.Sprintf("the settings file %s is empty (cut short while it was being saved?): phytoscreen starts on the default settings; set yours again in Settings", e.File)
	case e.KeepErr != nil:
		return fmt.Sprintf("the settings file %s could not be read (%v), and could not be kept aside (%v): phytoscreen starts on the default settings, and writes over that file when a setting changes or the app closes; copy it elsewhere now to keep what it holds",
			e.File, e.Cause, e.KeepErr)
	}
	return fmt.Sprintf("the settings file %s could not be read (%v): it was kept as %s, and phytoscreen starts on the default settings; set yours again in Settings (the kept file is text: your earlier values can be read there)",
		e.File, e.Cause, e.Kept)
}

func (e *UnreadablePrefsError) Unwrap() error { return e.Cause }

// KeepUnreadablePrefs checks the preferences file at path as Fyne reads it (one JSON
// object), and moves one that does not read aside to path.bad-YYYYMMDD-HHMMSS (never over
// another file), so the save that follows cannot destroy it. It returns nil when the
// file reads or is not there, else an *UnreadablePrefsError saying so, for the app to
// tell the user. Call it before anything sets a preference: Fyne saves at once.
func KeepUnreadablePrefs(path string, now time.Time) error {
	cause, empty := prefsReadProblem(path)
	if cause == nil {
		return nil
	}
	// Another phytoscreen may be saving the file this moment (Fyne truncates it, then
	// writes): what is half-written now reads in a moment.
	time.Sleep(150 * time.Millisecond)
	if cause, empty = prefsReadProblem(path); cause == nil {
		return nil
	}
	e := &UnreadablePrefsError{File: path, Cause: cause, Empty: empty}
	if empty {
		return e
	}
	e.Kept, e.KeepErr = keepAside(path, now)
	return e
}

// prefsReadProblem says why the preferences file at path does not read as Fyne reads
// it, nil when it does or is not there; empty: it holds nothing but white space.
func prefsReadProblem(path string) (cause error, empty bool) {
	f, err := inputfile.Open(path, inputfile.MaxText) // a FIFO put there must not hold the launch
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		return err, false
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return err, false
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty"), true
	}
	var v any // as Fyne decodes it: the first JSON value, which must be an object
	err = json.NewDecoder(bytes.NewReader(data)).Decode(&v)
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("it ends part way, after %d bytes: cut short", len(data)), false
	case errors.As(err, &syn):
		return fmt.Errorf("not JSON at byte %d: %v", syn.Offset, err), false
	case err != nil:
		return err, false
	}
	if _, ok := v.(map[string]any); !ok {
		return fmt.Errorf("it holds %s, not the settings' JSON object", jsonKind(v)), false
	}
	return nil, false
}

// jsonKind names a decoded JSON value's kind.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "a list"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "true or false"
	}
	return "something else"
}

// keepAside moves path to path.bad-TIMESTAMP (with -2, -3... when that is taken) and
// returns the new name.
func keepAside(path string, now time.Time) (string, error) {
	base := path + ".bad-" + now.Format("20060102-150405")
	for i := 1; i < 100; i++ {
		kept := base
		if i > 1 {
			kept += "-" + strconv.Itoa(i)
		}
		if _, err := os.Lstat(kept); !errors.Is(err, fs.ErrNotExist) {
			continue // never over another file
		}
		if err := os.Rename(path, kept); err != nil {
			return "", err
		}
		return kept, nil
	}
	return "", fmt.Errorf("%s-2 to -99 are all taken", base)
}
