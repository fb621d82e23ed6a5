// Package pgtest starts throw-away PostgreSQL clusters for tests and benchmarks: initdb
// in a temporary folder, a server on its own unix socket folder and a free 127.0.0.1
// port, stopped and removed when the test ends. Tests that need PostgreSQL use it so they
// run against the real server the programme uses, and fail (never skip) where its
// binaries are missing.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is one running (or stopped) throw-away PostgreSQL cluster.
type Cluster struct {
	bin  string // folder holding initdb, pg_ctl and postgres
	dir  string // the cluster's own folder: data, socket folder and log
	port int
	// asPostgres: we run as root, which initdb and postgres refuse, so they run as the
	// postgres user (runuser) in a folder it owns.
	asPostgres bool
	uid, gid   int

	mu      sync.Mutex
	running bool
	extra   []string // settings added by Configure
}

// libDir is where Debian installs each PostgreSQL version's server binaries (a variable
// so the test can point it at an empty folder).
var libDir = "/usr/lib/postgresql"

// missingBinaries is the fix said when PostgreSQL is not installed.
const missingBinaries = "PostgreSQL server binaries not found: install Debian's postgresql package (scripts/deps.sh installs it)"

// Start makes and starts a cluster for the test; the test's cleanup stops and removes it.
// It fails the test (never skips) when PostgreSQL cannot be started.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := StartE("")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Remove)
	return c
}

// StartE makes and starts a cluster in a new folder under dir ("" for the system's
// temporary folder; /tmp when running as root, so the postgres user can reach it). The
// caller must call Remove. It is for TestMain and benchmarks that share one cluster.
func StartE(dir string) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, asPostgres: os.Geteuid() == 0}
	if dir == "" && c.asPostgres {
		dir = "/tmp" // a root-only TMPDIR would be out of the postgres user's reach
	}
	if c.dir, err = os.MkdirTemp(dir, "pgtest-"); err != nil {
		return nil, fmt.Errorf("pgtest: making the cluster's folder: %w", err)
	}
	if err := c.initdb(); err != nil {
		c.Remove()
		return nil, err
	}
	// A free port can be taken by someone else between our probe and the server's bind:
	// try a few.
	for attempt := 0; ; attempt++ {
		if c.port, err = freePort(); err != nil {
			c.Remove()
			return nil, err
		}
		if err = c.Start(); err == nil {
			return c, nil
		}
		if attempt == 4 || !strings.Contains(err.Error(), "could not bind") && !strings.Contains(err.Error(), "could not create any TCP/IP sockets") {
			c.Remove()
			return nil, err
		}
	}
}

// findBin looks for initdb and pg_ctl on PATH, then in the newest
// /usr/lib/postgresql/VERSION/bin (Debian keeps the server binaries off PATH).
func findBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		d := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(libDir, "*", "bin"))
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		_, e1 := os.Stat(filepath.Join(d, "initdb"))
		_, e2 := os.Stat(filepath.Join(d, "pg_ctl"))
		if e1 == nil && e2 == nil {
			return d, nil
		}
	}
	return "", errors.New(missingBinaries)
}

// pgVersion reads the version from /usr/lib/postgresql/VERSION/bin ("9.6" sorts below "15").
func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// SocketDir is the folder holding the server's unix socket.
func (c *Cluster) SocketDir() string { return filepath.Join(c.dir, "sock") }

// Port is the server's TCP port on 127.0.0.1 (the unix socket uses the same number).
func (c *Cluster) Port() int { return c.port }

// command runs a PostgreSQL binary, as the postgres user when we are root.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir // a working folder the postgres user can enter
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "LANG=C.UTF-8")
	return cmd
}

func (c *Cluster) run(name string, args ...string) error {
	out, err := c.command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: %s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func (c *Cluster) initdb() error {
	if err := os.Mkdir(c.SocketDir(), 0o700); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if c.asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("pgtest: running as root needs the postgres user (Debian's postgresql package makes it): %w", err)
		}
		c.uid, _ = strconv.Atoi(u.Uid)
		c.gid, _ = strconv.Atoi(u.Gid)
		for _, p := range []string{c.dir, c.SocketDir()} {
			if err := c.chown(p); err != nil {
				return err
			}
		}
	}
	if err := c.run("initdb", "-D", c.dataDir(), "--auth-local=trust", "--auth-host=scram-sha-256",
		"-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return err
	}
	return nil
}

// chown gives a path to the postgres user when the server runs as it.
func (c *Cluster) chown(p string) error {
	if !c.asPostgres {
		return nil
	}
	if err := os.Chown(p, c.uid, c.gid); err != nil {
		return fmt.Errorf("pgtest: giving %s to the postgres user: %w", p, err)
	}
	return nil
}

// Start starts the cluster again after Stop or Kill, on the same folder, socket and port:
// what was committed before is still there.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return nil
	}
	// Settings go in the configuration file rather than pg_ctl -o, whose words the shell
	// splits; a restart on the same folder keeps the same socket and port. fsync off is
	// safe for Kill (a process crash: the kernel still holds the writes); synchronous
	// commit stays on, or a commit the client saw could be lost by Kill, which is what
	// the sync tests must catch.
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"+
		"fsync = off\nfull_page_writes = off\nmax_connections = 100\n"+
		"shared_buffers = 32MB\nlog_min_messages = warning\n", c.port, c.SocketDir())
	for _, l := range c.extra {
		conf += l + "\n"
	}
	// postgresql.auto.conf is read last, so these win over postgresql.conf.
	if err := os.WriteFile(filepath.Join(c.dataDir(), "postgresql.auto.conf"), []byte(conf), 0o600); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if err := c.chown(filepath.Join(c.dataDir(), "postgresql.auto.conf")); err != nil {
		return err
	}
	logFile := filepath.Join(c.dir, "server.log")
	if err := c.run("pg_ctl", "-D", c.dataDir(), "-l", logFile, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(logFile)
		return fmt.Errorf("%w\nserver log:\n%s", err, log)
	}
	c.running = true
	return nil
}

func (c *Cluster) stop(mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return nil
	}
	if err := c.run("pg_ctl", "-D", c.dataDir(), "-m", mode, "-w", "-t", "60", "stop"); err != nil {
		return err
	}
	c.running = false
	return nil
}

// Configure adds postgresql.conf settings ("ssl = on"), in effect from the next Start.
func (c *Cluster) Configure(settings ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.extra = append(c.extra, settings...)
}

// WriteFile writes a file into the data folder, owned by the server's user (a TLS key
// or certificate, which the server reads by names relative to its data folder).
func (c *Cluster) WriteFile(name string, data []byte) error {
	p := filepath.Join(c.dataDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return c.chown(p)
}

// Stop shuts the server down (fast: open sessions are ended, then a clean checkpoint).
func (c *Cluster) Stop() error { return c.stop("fast") }

// Kill stops the server at once, as a crash would (immediate: no checkpoint; the next
// Start recovers from the WAL).
func (c *Cluster) Kill() error { return c.stop("immediate") }

// Remove stops the server and removes its folder.
func (c *Cluster) Remove() {
	_ = c.Kill()
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

// quote writes a value for a keyword/value connection string.
func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// AdminDSN connects to database db over the unix socket as the superuser postgres.
func (c *Cluster) AdminDSN(db string) string { return c.DSN("postgres", db) }

// DSN connects to database db over the unix socket as user (trusted: no password).
func (c *Cluster) DSN(user, db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		quote(c.SocketDir()), c.port, quote(user), quote(db))
}

// HostDSN connects over TCP to 127.0.0.1, where a password is asked (scram-sha-256).
func (c *Cluster) HostDSN(user, password, db string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s dbname=%s sslmode=disable",
		c.port, quote(user), quote(password), quote(db))
}

// Exec runs statements in database db as the superuser, failing the test on error.
func (c *Cluster) Exec(tb testing.TB, db, sql string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.AdminDSN(db))
	if err != nil {
		tb.Fatalf("pgtest: connecting to %s: %v", db, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// CreateDatabase makes database name and returns its superuser DSN.
func (c *Cluster) CreateDatabase(tb testing.TB, name string) string {
	tb.Helper()
	if err := c.CreateDatabaseE(name); err != nil {
		tb.Fatal(err)
	}
	return c.AdminDSN(name)
}

// CreateDatabaseE makes database name (for TestMain and benchmarks).
func (c *Cluster) CreateDatabaseE(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.AdminDSN("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: connecting: %w", err)
	}
	defer conn.Close(ctx)
	// CREATE DATABASE takes no parameters: the name goes in as a quoted identifier.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("pgtest: creating database %s: %w", name, err)
	}
	return nil
}
