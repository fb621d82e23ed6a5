package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/phytoscreen/phytoscreen/labrec"
)

// writeCA writes a self-signed CA certificate as PEM and returns its path.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lab CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The settings round-trip through the preferences; a fresh store reads as off with
// TLS prefer, and a hand-edited unknown TLS mode reads as prefer.
func TestLabSettingsRoundTrip(t *testing.T) {
	p := MapPrefs{}
	if got := LoadLabSettings(p); got != (LabSettings{SSLMode: DefaultSSLMode}) {
		t.Fatalf("first launch: %+v, want off with TLS %s", got, DefaultSSLMode)
	}
	s := LabSettings{Enabled: true, DSN: "host=lab.example.org dbname=phytoscreen user=bench_a", SSLMode: "verify-full",
		RootCert: "/etc/ssl/lab-ca.pem", BenchName: "Bench A — Loch Ness"}
	s.Save(p)
	if got := LoadLabSettings(p); got != s {
		t.Fatalf("loaded %+v, saved %+v", got, s)
	}
	p[PrefLabSSLMode] = "sometimes"
	if got := LoadLabSettings(p).SSLMode; got != DefaultSSLMode {
		t.Errorf("unknown TLS mode read as %q, want %q", got, DefaultSSLMode)
	}
}

// Both forms of connection string are read as libpq reads them: quoted values with
// escapes and spaces around =, URLs with a port and parameters.
func TestParseDSN(t *testing.T) {
	for _, c := range []struct {
		dsn  string
		want map[string]string
	}{
		{"host=lab.example.org dbname=phytoscreen user=bench_a",
			map[string]string{"host": "lab.example.org", "dbname": "phytoscreen", "user": "bench_a"}},
		{`host = lab port=5433  dbname='my db' user='o\'brien' application_name=a\ b`,
			map[string]string{"host": "lab", "port": "5433", "dbname": "my db", "user": "o'brien", "application_name": "a b"}},
		{"postgres://bench_a@lab.example.org:5433/phytoscreen?sslmode=require&connect_timeout=5",
			map[string]string{"user": "bench_a", "host": "lab.example.org", "port": "5433", "dbname": "phytoscreen", "sslmode": "require", "connect_timeout": "5"}},
		{"postgresql://lab/db%20x", map[string]string{"host": "lab", "dbname": "db x"}},
	} {
		got, err := ParseDSN(c.dsn)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseDSN(%q) = %v, %v; want %v", c.dsn, got, err, c.want)
		}
	}
	for _, bad := range []string{"host", "host=lab dbname='open", "=x"} {
		if _, err := ParseDSN(bad); err == nil {
			t.Errorf("ParseDSN(%q) read it", bad)
		}
	}
}

// Check refuses a password in the connection string, in every form, saying where it
// belongs; and the other mistakes, each named.
func TestLabSettingsCheck(t *testing.T) {
	ca := writeCA(t)
	notPEM := filepath.Join(t.TempDir(), "key.der")
	if err := os.WriteFile(notPEM, []byte{0x30, 0x82, 1, 2}, 0o600); err != nil {
		t.Fatal(err)
	}
	ok := LabSettings{Enabled: true, DSN: "host=lab dbname=p user=bench_a", SSLMode: "prefer"}
	if err := ok.Check(); err != nil {
		t.Fatalf("good settings refused: %v", err)
	}
	off := LabSettings{SSLMode: "prefer"}
	if err := off.Check(); err != nil {
		t.Fatalf("a bench with no server refused: %v", err)
	}
	for _, dsn := range []string{
		"host=lab dbname=p user=bench_a password=s3cret",
		"host=lab password = 's3 cret' user=bench_a",
		"postgres://bench_a:s3cret@lab/p",
		"postgres://bench_a:@lab/p", // an empty password is still a password field
		"postgresql://bench_a@lab/p?password=s3cret",
	} {
		s := ok
		s.DSN = dsn
		err := s.Check()
		if err == nil || !strings.Contains(err.Error(), "put the password in the password field (kept in the OS keyring) or in PHYTOSCREEN_LAB_PASSWORD, never in the connection string") {
			t.Errorf("DSN %q: %v", dsn, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3") {
			t.Errorf("the refusal of %q shows the password: %v", dsn, err)
		}
	}
	for _, c := range []struct {
		s    LabSettings
		want string
	}{
		{LabSettings{Enabled: true, SSLMode: "prefer"}, "no server is named"},
		{LabSettings{Enabled: true, DSN: "host=lab", SSLMode: "verify-full"}, "choose its PEM file"},
		{LabSettings{Enabled: true, DSN: "host=lab", SSLMode: "verify-ca", RootCert: filepath.Join(t.TempDir(), "none.pem")}, "cannot be read (no such file or folder)"},
		{LabSettings{Enabled: true, DSN: "host=lab", SSLMode: "verify-ca", RootCert: notPEM}, "holds no PEM certificate"},
		{LabSettings{Enabled: true, DSN: "host=lab sslmode=disable", SSLMode: "require"}, "says sslmode=disable but TLS is set to require"},
		{LabSettings{Enabled: true, DSN: "host=lab", SSLMode: "always"}, `TLS mode "always"`},
		{LabSettings{Enabled: true, DSN: "host=lab", SSLMode: "prefer", BenchName: "a\nb"}, "bench name"},
		{LabSettings{Enabled: true, DSN: "host=lab dbname='x", SSLMode: "prefer"}, "opens a quote"},
		{LabSettings{Enabled: true, DSN: "host=lab", SSLMode: "prefer", BenchName: strings.Repeat("é", labrec.MaxBenchNameLen/2+1)}, "bench name"},
		{LabSettings{Enabled: true, DSN: "host=lab sslpassword=key-secret", SSLMode: "prefer"}, "holds a password"},
	} {
		if err := c.s.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want an error saying %q", c.s, err, c.want)
		}
	}
	good := LabSettings{Enabled: true, DSN: "host=lab", SSLMode: "verify-full", RootCert: ca}
	if err := good.Check(); err != nil {
		t.Errorf("verify-full with a CA certificate refused: %v", err)
	}
	// Settings take exactly the names the store takes: the longest one too.
	good.BenchName = strings.Repeat("x", labrec.MaxBenchNameLen)
	if err := good.Check(); err != nil {
		t.Errorf("a bench name of %d bytes refused: %v", labrec.MaxBenchNameLen, err)
	}
}

// The password comes from the environment first, else the keyring, else nowhere; it is
// kept per account, and never in the preferences.
func TestLabPasswordKeyring(t *testing.T) {
	keyring.MockInit()
	t.Setenv(LabPasswordEnv, "")
	s := LabSettings{Enabled: true, DSN: "postgres://bench_a@lab.example.org/phytoscreen", SSLMode: "require"}
	if pw, from, err := LabPassword(s); pw != "" || from != "" || err != nil {
		t.Fatalf("nothing saved: %q from %q (%v)", pw, from, err)
	}
	const secret = "pa'ss wörd;--"
	if err := SaveLabPassword(s, secret); err != nil {
		t.Fatal(err)
	}
	p := MapPrefs{}
	s.Save(p)
	for k, v := range p {
		if strings.Contains(fmt.Sprint(v), secret) {
			t.Errorf("preference %s holds the password", k)
		}
	}
	if pw, from, err := LabPassword(LoadLabSettings(p)); pw != secret || from != PasswordFromKeyring || err != nil {
		t.Fatalf("after saving: %q from %q (%v)", pw, from, err)
	}
	// The same account written in the other form finds it; another role does not.
	same := s
	same.DSN = "host=lab.example.org user=bench_a dbname=phytoscreen"
	if pw, _, _ := LabPassword(same); pw != secret {
		t.Errorf("keyword form of the same account found %q", pw)
	}
	other := s
	other.DSN = "host=lab.example.org user=bench_b dbname=phytoscreen"
	if pw, from, _ := LabPassword(other); pw != "" || from != "" {
		t.Errorf("bench_b got bench_a's password %q from %q", pw, from)
	}
	t.Setenv(LabPasswordEnv, "from-env")
	if pw, from, err := LabPassword(s); pw != "from-env" || from != PasswordFromEnv || err != nil {
		t.Errorf("with %s set: %q from %q (%v)", LabPasswordEnv, pw, from, err)
	}
	t.Setenv(LabPasswordEnv, "")
	if err := ForgetLabPassword(s); err != nil {
		t.Fatal(err)
	}
	if pw, from, _ := LabPassword(s); pw != "" || from != "" {
		t.Errorf("after forgetting: %q from %q", pw, from)
	}
	if err := ForgetLabPassword(s); err != nil {
		t.Errorf("forgetting twice: %v", err)
	}
	if err := SaveLabPassword(s, ""); err == nil {
		t.Error("an empty password was saved")
	}
}

// With no keyring service (no Secret Service on D-Bus, as under Xvfb in CI) saving
// fails saying so and naming the environment variable, and reading finds no password
// with an error that says why. The real keyring is used, in a child process whose
// session bus address leads nowhere (the mock replaces it for good in this process).
func TestLabPasswordNoKeyring(t *testing.T) {
	if os.Getenv("PHYTOSCREEN_TEST_NO_KEYRING_CHILD") == "1" {
		s := LabSettings{Enabled: true, DSN: "host=lab user=bench_a dbname=p", SSLMode: "prefer"}
		err := SaveLabPassword(s, "secret")
		fmt.Printf("SAVE: %v\n", err)
		pw, from, err := LabPassword(s)
		fmt.Printf("READ: %q %q %v ISNOKEYRING=%v\n", pw, from, err, errors.Is(err, ErrNoKeyring))
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLabPasswordNoKeyring$", "-test.v")
	cmd.Env = append(os.Environ(), "PHYTOSCREEN_TEST_NO_KEYRING_CHILD=1", LabPasswordEnv+"=",
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	text := string(out)
	t.Logf("child said:\n%s", text)
	for _, want := range []string{"SAVE: could not save the password in the OS keyring", "no keyring service", "set the password in the environment variable PHYTOSCREEN_LAB_PASSWORD instead",
		`READ: "" ""`, "ISNOKEYRING=true"} {
		if !strings.Contains(text, want) {
			t.Errorf("child output lacks %q", want)
		}
	}
}
