package app

import (
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/zalando/go-keyring"

	"github.com/phytoscreen/phytoscreen/labrec"
)

// LabSettings say how this bench reaches its programme's lab server (issue 16). They are
// kept in the preferences like the other settings, but never the password: that lives in
// the OS keyring or in PHYTOSCREEN_LAB_PASSWORD (LabPassword), because the preferences
// file is plain JSON any user process can read.
type LabSettings struct {
	// Enabled turns the sync on; off, the bench behaves as one with no server.
	Enabled bool
	// DSN is the PostgreSQL connection string without a password, in keyword form
	// ("host=lab.example.org dbname=phytoscreen user=bench_a") or URL form
	// ("postgres://bench_a@lab.example.org/phytoscreen").
	DSN string
	// SSLMode is the TLS mode: disable, prefer (the default), require, verify-ca or
	// verify-full.
	SSLMode string
	// RootCert is the PEM file of the server's certificate authority, needed by the
	// verify-* modes.
	RootCert string
	// BenchName is how the programme views name this bench; "" lets the sync use the
	// host name.
	BenchName string
}

// Preference keys of the lab server settings. They are part of the user's saved state:
// do not rename them.
const (
	PrefLabEnabled   = "lab.enabled"
	PrefLabDSN       = "lab.dsn"
	PrefLabSSLMode   = "lab.sslmode"
	PrefLabRootCert  = "lab.root_cert"
	PrefLabBenchName = "lab.bench_name"
)

// LabPasswordEnv is the environment variable that gives the lab server's password; it
// wins over the keyring (a service account, a CI machine, a bench with no keyring).
const LabPasswordEnv = "PHYTOSCREEN_LAB_PASSWORD"

// labKeyringService is the keyring service the password is kept under; the keyring's
// user is the connection's user@host/db (LabSettings.Account), so two servers or two
// roles keep two passwords.
const labKeyringService = "phytoscreen-lab"

// DefaultSSLMode is the TLS mode of a bench that chose none: TLS when the server offers
// it, as libpq does.
const DefaultSSLMode = "prefer"

// LabSSLModes are the TLS modes Settings offers, weakest first.
var LabSSLModes = []string{"disable", "prefer", "require", "verify-ca", "verify-full"}

// LoadLabSettings reads the lab server settings from p; an unknown TLS mode (a
// hand-edited file) reads as the default, and Check says what else is wrong.
func LoadLabSettings(p Prefs) LabSettings {
	s := LabSettings{
		Enabled:   p.BoolWithFallback(PrefLabEnabled, false),
		DSN:       p.StringWithFallback(PrefLabDSN, ""),
		SSLMode:   p.StringWithFallback(PrefLabSSLMode, DefaultSSLMode),
		RootCert:  p.StringWithFallback(PrefLabRootCert, ""),
		BenchName: p.StringWithFallback(PrefLabBenchName, ""),
	}
	if !slices.Contains(LabSSLModes, s.SSLMode) {
		s.SSLMode = DefaultSSLMode
	}
	return s
}

// Save writes the settings to p. It has no password to write: see SaveLabPassword.
func (s LabSettings) Save(p Prefs) {
	p.SetBool(PrefLabEnabled, s.Enabled)
	p.SetString(PrefLabDSN, s.DSN)
	p.SetString(PrefLabSSLMode, s.SSLMode)
	p.SetString(PrefLabRootCert, s.RootCert)
	p.SetString(PrefLabBenchName, s.BenchName)
}

// errPasswordInDSN is the refusal of a connection string that holds a password.
var errPasswordInDSN = fmt.Errorf("the connection string holds a password: put the password in the password field (kept in the OS keyring) or in %s, never in the connection string (it is kept in a plain preferences file)", LabPasswordEnv)

// Check reports what is wrong with the settings, each problem with its fix: a password
// in the connection string, a connection string that cannot be read, none when the sync
// is on, an unknown TLS mode or one the connection string contradicts, a verify-* mode
// without a readable CA certificate, a bench name with control characters.
func (s LabSettings) Check() error {
	var errs []error
	dsn := strings.TrimSpace(s.DSN)
	if dsn == "" && s.Enabled {
		errs = append(errs, errors.New("connection string: the sync is on but no server is named; write e.g. host=lab.example.org dbname=phytoscreen user=bench_a, or turn the sync off"))
	}
	if dsn != "" {
		kv, err := ParseDSN(dsn)
		switch {
		case errors.Is(err, errPasswordInDSN):
			errs = append(errs, err)
		case err != nil:
			errs = append(errs, fmt.Errorf("connection string: %w", err))
		default:
			if m, ok := kv["sslmode"]; ok && m != s.SSLMode {
				errs = append(errs, fmt.Errorf("connection string says sslmode=%s but TLS is set to %s: remove sslmode from the connection string and choose TLS in its field", m, s.SSLMode))
			}
			if c, ok := kv["sslrootcert"]; ok && c != s.RootCert {
				errs = append(errs, errors.New("connection string names an sslrootcert: remove it and choose the CA certificate in its field"))
			}
		}
	}
	if !slices.Contains(LabSSLModes, s.SSLMode) {
		errs = append(errs, fmt.Errorf("TLS mode %q: choose one of %s", s.SSLMode, strings.Join(LabSSLModes, ", ")))
	}
	verify := strings.HasPrefix(s.SSLMode, "verify-")
	switch {
	case s.RootCert == "" && verify:
		errs = append(errs, fmt.Errorf("TLS %s checks the server against a CA certificate: choose its PEM file (from the server's administrator), or choose require", s.SSLMode))
	case s.RootCert != "":
		if err := checkPEMCert(s.RootCert); err != nil {
			errs = append(errs, err)
		}
	}
	if err := labrec.CheckBenchName(strings.TrimSpace(s.BenchName)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkPEMCert checks that path is a readable PEM file with a certificate in it.
func checkPEMCert(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("CA certificate %s cannot be read (%s): choose the PEM file the server's administrator gave you", path, errText(err))
	}
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return fmt.Errorf("CA certificate %s holds no PEM certificate (-----BEGIN CERTIFICATE-----): choose the CA's certificate, not a key or a DER file", path)
		}
		if blk.Type == "CERTIFICATE" {
			return nil
		}
	}
}

// ParseDSN reads a PostgreSQL connection string, keyword form (libpq's rules: spaces
// around =, single-quoted values with \' and \\) or URL form (postgres:// or
// postgresql://, query parameters included), into libpq's keywords: user, host, port,
// dbname and the rest. A password (or sslpassword) in it, in either form, is refused with
// errPasswordInDSN.
func ParseDSN(dsn string) (map[string]string, error) {
	dsn = strings.TrimSpace(dsn)
	var kv map[string]string
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		kv, err = parseDSNURL(dsn)
	} else {
		kv, err = parseDSNKeywords(dsn)
	}
	if err != nil {
		return nil, err
	}
	// sslpassword unlocks the client key: a secret too, and as plain in the preferences.
	for _, secret := range []string{"password", "sslpassword"} {
		if _, ok := kv[secret]; ok {
			return nil, errPasswordInDSN
		}
	}
	return kv, nil
}

// parseDSNURL reads the URL form with net/url.
func parseDSNURL(dsn string) (map[string]string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		// net/url's message quotes the whole URL; a password typed in it would be shown.
		return nil, errors.New("not a valid postgres:// URL: write postgres://USER@HOST:PORT/DATABASE, or use the keyword form host=... dbname=... user=...")
	}
	kv := map[string]string{}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return nil, errPasswordInDSN
		}
		if n := u.User.Username(); n != "" {
			kv["user"] = n
		}
	}
	if h := u.Hostname(); h != "" {
		kv["host"] = h
	}
	if p := u.Port(); p != "" {
		kv["port"] = p
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		kv["dbname"] = db
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("the URL's parameters after ? cannot be read: write them as name=value&name=value")
	}
	for k, v := range q {
		if len(v) > 0 {
			kv[k] = v[len(v)-1]
		}
	}
	return kv, nil
}

// parseDSNKeywords reads the keyword form as libpq does.
func parseDSNKeywords(dsn string) (map[string]string, error) {
	kv := map[string]string{}
	r := []rune(dsn)
	i := 0
	skip := func() {
		for i < len(r) && unicode.IsSpace(r[i]) {
			i++
		}
	}
	for {
		skip()
		if i >= len(r) {
			return kv, nil
		}
		start := i
		for i < len(r) && r[i] != '=' && !unicode.IsSpace(r[i]) {
			i++
		}
		key := string(r[start:i])
		skip()
		if i >= len(r) || r[i] != '=' || key == "" {
			return nil, fmt.Errorf("%q has no value: write keyword=value pairs separated by spaces, e.g. host=lab.example.org dbname=phytoscreen user=bench_a", key)
		}
		i++ // '='
		skip()
		var val strings.Builder
		if i < len(r) && r[i] == '\'' {
			i++
			closed := false
			for i < len(r) {
				c := r[i]
				if c == '\\' && i+1 < len(r) {
					val.WriteRune(r[i+1])
					i += 2
					continue
				}
				if c == '\'' {
					closed = true
					i++
					break
				}
				val.WriteRune(c)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("the value of %s opens a quote it does not close: end it with '", key)
			}
		} else {
			for i < len(r) && !unicode.IsSpace(r[i]) {
				if r[i] == '\\' && i+1 < len(r) {
					i++
				}
				val.WriteRune(r[i])
				i++
			}
		}
		kv[key] = val.String()
	}
}

// Account names the server's role and database as user@host/db: the keyring entry of
// the password and what Settings shows. Parts the connection string leaves out are
// libpq's defaults (the environment's PGUSER, PGHOST, PGDATABASE, else the login user
// and the local socket).
func (s LabSettings) Account() (string, error) {
	kv, err := ParseDSN(s.DSN)
	if err != nil {
		return "", err
	}
	get := func(key, env, def string) string {
		if v := kv[key]; v != "" {
			return v
		}
		if v := os.Getenv(env); v != "" {
			return v
		}
		return def
	}
	user := get("user", "PGUSER", os.Getenv("USER"))
	host := get("host", "PGHOST", "localhost")
	db := get("dbname", "PGDATABASE", user)
	return user + "@" + host + "/" + db, nil
}

// Where a password comes from (LabPassword's from).
const (
	PasswordFromEnv     = "environment"
	PasswordFromKeyring = "keyring"
)

// ErrNoKeyring marks that the OS keyring could not be reached (no Secret Service on
// D-Bus: a bare window manager, a virtual display, a server).
var ErrNoKeyring = errors.New("no OS keyring")

// LabPassword finds the lab server's password: PHYTOSCREEN_LAB_PASSWORD first, else the
// OS keyring, else none (from == "": the server may take other proof, a .pgpass file or
// a local socket's peer check). err is set when the keyring could not be read (it wraps
// ErrNoKeyring and names the variable to use instead); the caller may go on without a
// password, as with none.
func LabPassword(s LabSettings) (password, from string, err error) {
	if pw, ok := os.LookupEnv(LabPasswordEnv); ok && pw != "" {
		return pw, PasswordFromEnv, nil
	}
	acct, err := s.Account()
	if err != nil {
		return "", "", err
	}
	pw, err := keyring.Get(labKeyringService, acct)
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return "", "", nil
	case err != nil:
		return "", "", noKeyring("read", err)
	}
	return pw, PasswordFromKeyring, nil
}

// SaveLabPassword keeps the password of s's account in the OS keyring.
func SaveLabPassword(s LabSettings, password string) error {
	if password == "" {
		return errors.New("no password to save: type it in the password field")
	}
	acct, err := s.Account()
	if err != nil {
		return err
	}
	if err := keyring.Set(labKeyringService, acct, password); err != nil {
		return noKeyring("save the password in", err)
	}
	return nil
}

// ForgetLabPassword removes s's account's password from the OS keyring; none there is
// not an error.
func ForgetLabPassword(s LabSettings) error {
	acct, err := s.Account()
	if err != nil {
		return err
	}
	if err := keyring.Delete(labKeyringService, acct); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return noKeyring("remove the password from", err)
	}
	return nil
}

// noKeyring says the keyring could not be used and what to do instead.
func noKeyring(what string, err error) error {
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return fmt.Errorf("could not %s the OS keyring: %w", what, err)
	}
	return fmt.Errorf("could not %s the OS keyring (%v): %w — this session has no keyring service (Secret Service on D-Bus, such as GNOME Keyring or KWallet); set the password in the environment variable %s instead, or start a keyring", what, err, ErrNoKeyring, LabPasswordEnv)
}
