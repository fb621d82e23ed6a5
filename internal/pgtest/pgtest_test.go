package pgtest

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestStopStart: a cluster answers, refuses connections once stopped, and after Start
// again on the same folder still holds what was committed; Kill (a crash) keeps it too.
func TestStopStart(t *testing.T) {
	c := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dsn := c.CreateDatabase(t, "keep me")
	c.Exec(t, "keep me", "CREATE TABLE t (v text); INSERT INTO t VALUES ('before stop')")

	read := func() (string, error) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return "", err
		}
		defer conn.Close(ctx)
		var v string
		err = conn.QueryRow(ctx, "SELECT string_agg(v, ',' ORDER BY v) FROM t").Scan(&v)
		return v, err
	}
	if v, err := read(); err != nil || v != "before stop" {
		t.Fatalf("read %q, %v; want before stop", v, err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err := read()
	if err == nil {
		t.Fatal("a stopped cluster answered")
	}
	// Over TCP a stopped server refuses the connection.
	conn, err := pgx.Connect(ctx, c.HostDSN("postgres", "x", "postgres"))
	if err == nil {
		conn.Close(ctx)
		t.Fatal("a stopped cluster answered over TCP")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("TCP to a stopped cluster: %v; want connection refused", err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	c.Exec(t, "keep me", "INSERT INTO t VALUES ('before kill')")
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if v, err := read(); err != nil || v != "before kill,before stop" {
		t.Fatalf("after restarts read %q, %v; want both rows", v, err)
	}
	if !strings.HasPrefix(c.SocketDir(), "/") || c.Port() <= 0 {
		t.Fatalf("socket %q port %d", c.SocketDir(), c.Port())
	}
}

// TestPassword: over TCP the server asks for a password (scram-sha-256), so password
// tests see a real check.
func TestPassword(t *testing.T) {
	c := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.Exec(t, "postgres", "CREATE ROLE bench_q LOGIN PASSWORD 'it''s \\ secret'")
	conn, err := pgx.Connect(ctx, c.HostDSN("bench_q", `it's \ secret`, "postgres"))
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	conn.Close(ctx)
	if conn, err := pgx.Connect(ctx, c.HostDSN("bench_q", "wrong", "postgres")); err == nil {
		conn.Close(ctx)
		t.Fatal("a wrong password was let in")
	}
}

// TestMissingBinaries: without PostgreSQL the error says what to install.
func TestMissingBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := libDir
	libDir = t.TempDir()
	defer func() { libDir = old }()
	_, err := StartE("")
	if err == nil || !strings.Contains(err.Error(), "install Debian's postgresql package") {
		t.Fatalf("StartE without binaries: %v; want the install fix", err)
	}
	libDir = old
	if _, err := findBin(); err != nil {
		t.Fatalf("findBin with /usr/lib/postgresql: %v", err)
	}
}
