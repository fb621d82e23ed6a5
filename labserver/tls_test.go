package labserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phytoscreen/phytoscreen/internal/pgtest"
)

// certs makes a CA and a server certificate it signs for names.
func certs(t *testing.T, cn string, names []string, ips []net.IP) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "programme CA " + cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn}, DNSNames: names, IPAddresses: ips,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	caCert, _ := x509.ParseCertificate(caDER)
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// TestTLS: verify-full with the programme's CA connects to a server whose certificate
// names the host dialled, and refuses one that names another host or is signed by
// another CA, saying what to check.
func TestTLS(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Start(t)
	ca, cert, key := certs(t, "localhost", []string{"localhost"}, nil)
	otherCA, _, _ := certs(t, "other", []string{"localhost"}, nil)
	for name, data := range map[string][]byte{"server.crt": cert, "server.key": key} {
		if err := c.WriteFile(name, data); err != nil {
			t.Fatal(err)
		}
	}
	c.Configure("ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'")
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	c.Exec(t, "postgres", "CREATE ROLE tls_bench LOGIN PASSWORD 'pw'")
	dir := t.TempDir()
	caFile, otherFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "other.pem")
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(otherFile, otherCA, 0o600); err != nil {
		t.Fatal(err)
	}
	dsn := func(host string) string {
		return strings.Replace(c.HostDSN("tls_bench", "", "postgres"), "host=127.0.0.1", "host="+host, 1)
	}
	s, err := Open(ctx, Config{DSN: dsn("localhost"), Password: "pw", SSLMode: "verify-full", RootCert: caFile})
	if err != nil {
		t.Fatalf("verify-full to localhost: %v", err)
	}
	var ssl bool
	if err := s.pool.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
		t.Fatalf("the connection is not encrypted: %v, %v", ssl, err)
	}
	s.Close()
	// 127.0.0.1 is not a name the certificate gives.
	_, err = Open(ctx, Config{DSN: dsn("127.0.0.1"), Password: "pw", SSLMode: "verify-full", RootCert: caFile})
	if err == nil || !strings.Contains(err.Error(), "host name matches the certificate") {
		t.Fatalf("verify-full to a name the certificate lacks: %v", err)
	}
	t.Logf("wrong name: %v", err)
	_, err = Open(ctx, Config{DSN: dsn("localhost"), Password: "pw", SSLMode: "verify-ca", RootCert: otherFile})
	if err == nil || !strings.Contains(err.Error(), "check the root certificate") {
		t.Fatalf("verify-ca with another CA: %v", err)
	}
	// verify-ca checks the CA, not the name.
	s, err = Open(ctx, Config{DSN: dsn("127.0.0.1"), Password: "pw", SSLMode: "verify-ca", RootCert: caFile})
	if err != nil {
		t.Fatalf("verify-ca to 127.0.0.1: %v", err)
	}
	s.Close()
}
