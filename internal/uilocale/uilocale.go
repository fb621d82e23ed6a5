// Package uilocale gives Fyne a locale it can parse before Fyne's packages initialise.
// Under LANG=C.UTF-8 (Debian's default in containers and CI) Fyne's locale lookup
// takes "C" for a language and logs an error at start-up, from its own package
// initialisation, before main runs. A POSIX locale names no language, so English is
// what the user gets anyway: this package sets LANGUAGE=en in that case, from its init,
// which the ui package imports first. LANGUAGE only chooses the language of messages;
// the LC_* settings are untouched.
package uilocale

import (
	"os"
	"strings"
)

func init() { Fix() }

// Fix sets LANGUAGE=en when the effective locale (LC_ALL, else LC_MESSAGES, else LANG)
// is C or POSIX (with or without an encoding) and LANGUAGE is unset. It reports whether
// it did.
func Fix() bool {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(k)
		if v == "" {
			continue
		}
		lang, _, _ := strings.Cut(v, ".")
		if (lang == "C" || lang == "POSIX") && os.Getenv("LANGUAGE") == "" {
			os.Setenv("LANGUAGE", "en")
			return true
		}
		return false
	}
	return false
}
