// Package labserver is the programme's lab server on PostgreSQL: its schema and
// migrations, the least-privilege roles, what a bench pushes and pulls (it implements
// labsync.Server) and the programme views read over every bench (samples, site trends,
// the weekly report). It is the only package that speaks PostgreSQL (pgx).
package labserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/phytoscreen/phytoscreen/labrec"
)

// connectTimeout bounds a connection attempt: a bench whose server is away must find
// out quickly and go on screening.
const connectTimeout = 5 * time.Second

// Config says how to reach the lab server.
type Config struct {
	// DSN is a libpq connection string, keyword/value ("host=… dbname=phytoscreen
	// user=bench_a") or URL ("postgres://bench_a@host/phytoscreen").
	DSN string
	// Password of the role: from the OS keyring or PHYTOSCREEN_LAB_PASSWORD, never kept
	// in plain preferences. It overrides any password in DSN.
	Password string
	// SSLMode is disable, prefer, require, verify-ca or verify-full ("" keeps DSN's, or
	// libpq's default prefer).
	SSLMode string
	// RootCert is the PEM file of the CA that signed the server's certificate, for
	// verify-ca and verify-full.
	RootCert string
}

// Server is a connection pool to the lab server.
type Server struct {
	pool *pgxpool.Pool
	text string // host and database, for display
}

var sslModes = map[string]bool{"disable": true, "allow": true, "prefer": true, "require": true, "verify-ca": true, "verify-full": true}

// withParams adds connection parameters to a keyword/value or URL connection string
// (later keywords win in libpq's syntax). Values are quoted, never parsed as syntax.
func withParams(dsn string, params [][2]string) (string, error) {
	if len(params) == 0 {
		return dsn, nil
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("reading the connection string %s: %w", Redacted(dsn), err)
		}
		q := u.Query()
		for _, p := range params {
			q.Set(p[0], p[1])
		}
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	var b strings.Builder
	b.WriteString(dsn)
	for _, p := range params {
		fmt.Fprintf(&b, " %s='%s'", p[0], strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(p[1]))
	}
	return b.String(), nil
}

// parseConfig reads cfg into a pool configuration.
func parseConfig(cfg Config) (*pgxpool.Config, error) {
	if strings.TrimSpace(cfg.DSN) == "" {
		return nil, errors.New("lab server: no connection string: give one in Settings > Lab server, e.g. host=lab.example.org dbname=phytoscreen user=bench_a")
	}
	var params [][2]string
	if cfg.SSLMode != "" {
		if !sslModes[cfg.SSLMode] {
			return nil, fmt.Errorf("lab server: TLS mode %q: choose disable, prefer, require, verify-ca or verify-full", cfg.SSLMode)
		}
		params = append(params, [2]string{"sslmode", cfg.SSLMode})
	}
	if cfg.RootCert != "" {
		if _, err := os.Stat(cfg.RootCert); err != nil {
			return nil, fmt.Errorf("lab server: root certificate: %w: give the PEM file of the CA that signed the server's certificate", err)
		}
		params = append(params, [2]string{"sslrootcert", cfg.RootCert})
	}
	dsn, err := withParams(cfg.DSN, params)
	if err != nil {
		return nil, fmt.Errorf("lab server: %w", err)
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's own message may quote the string: say it without the password.
		return nil, fmt.Errorf("lab server: reading the connection string %s: %s: write it as host=… port=5432 dbname=phytoscreen user=… or postgres://user@host/phytoscreen",
			Redacted(cfg.DSN), strings.ReplaceAll(err.Error(), dsn, Redacted(dsn)))
	}
	if cfg.Password != "" {
		pc.ConnConfig.Password = cfg.Password // fallbacks share it: they carry only host, port and TLS
	}
	if pc.ConnConfig.ConnectTimeout == 0 || pc.ConnConfig.ConnectTimeout > connectTimeout {
		pc.ConnConfig.ConnectTimeout = connectTimeout
	}
	if pc.ConnConfig.RuntimeParams["application_name"] == "" {
		pc.ConnConfig.RuntimeParams["application_name"] = "phytoscreen"
	}
	pc.MaxConns = 4
	return pc, nil
}

// Open connects to the lab server and checks that it answers. Errors say the fix.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	pc, err := parseConfig(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{text: describe(pc.ConnConfig.Host, pc.ConnConfig.Port, pc.ConnConfig.Database)}
	if s.pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
		return nil, explain("lab server "+s.text, err)
	}
	if err := s.Ping(ctx); err != nil {
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

// Ping checks the server answers.
func (s *Server) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*connectTimeout)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return explain("lab server "+s.text, err)
	}
	return nil
}

// Close closes the connections.
func (s *Server) Close() { s.pool.Close() }

// ServerText says where the server is: host, port and database, no user or password.
func (s *Server) ServerText() string { return s.text }

func describe(host string, port uint16, db string) string {
	if strings.HasPrefix(host, "/") {
		return fmt.Sprintf("%s (socket %s, port %d)", db, host, port)
	}
	return fmt.Sprintf("%s on %s", db, net.JoinHostPort(host, strconv.Itoa(int(port))))
}

var (
	kvPassword = regexp.MustCompile(`(?i)(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*)`)
	urlQueryPW = regexp.MustCompile(`(?i)([?&](?:ssl)?password=)[^&#]*`)
)

// Redacted is dsn with any password (the role's, or sslpassword: the client key's)
// replaced by xxxxx, for messages and Settings.
func Redacted(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			}
			return urlQueryPW.ReplaceAllString(u.String(), "${1}xxxxx")
		}
		// unparsable: hide everything between the scheme and the host
		if i := strings.Index(dsn, "@"); i >= 0 {
			return dsn[:strings.Index(dsn, "://")+3] + "xxxxx" + dsn[i:]
		}
		return urlQueryPW.ReplaceAllString(dsn, "${1}xxxxx")
	}
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}

// PostgreSQL error codes the messages explain.
const (
	codeInvalidPassword     = "28P01"
	codeInvalidAuth         = "28000"
	codeUnknownDatabase     = "3D000"
	codeUndefinedTable      = "42P01"
	codeInsufficientPriv    = "42501"
	codeUniqueViolation     = "23505"
	codeDeadlock            = "40P01"
	codeSerialization       = "40001"
	codeAdminShutdown       = "57P01"
	codeCannotConnectNow    = "57P03"
	codeTooManyConnections  = "53300"
	codeReadOnlyTransaction = "25006"
)

// ErrNoSchema is wrapped in errors from a database that has no (or another) schema.
var ErrNoSchema = errors.New("the lab server's database is not at this phytoscreen's schema version")

const migrateFix = "run `phytoscreen server migrate --server ADMIN_DSN` as the programme's admin (docs/labserver.md)"

// explain wraps err with what was being done and the fix.
func explain(what string, err error) error {
	if err == nil {
		return nil
	}
	fix := ""
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe):
		switch pe.Code {
		case codeInvalidPassword, codeInvalidAuth:
			// Any role's login (a reader's, a reviewer's too), and often no password at all
			// (helper-63: it read as a bench's wrong password).
			fix = "check the login role's password (keyring or PHYTOSCREEN_LAB_PASSWORD: is one set for this user?) and user name"
			err = fmt.Errorf("%w: %w", labrec.ErrLoginRefused, err)
		case codeUnknownDatabase:
			fix = "check dbname, or create the database (createdb) and migrate it: " + migrateFix
		case codeUndefinedTable:
			fix = "the database has no phytoscreen schema: " + migrateFix
			err = fmt.Errorf("%w: %w", ErrNoSchema, err)
		case codeInsufficientPriv:
			fix = "the role lacks the right: a bench's login role must be IN ROLE phytoscreen_bench, register its bench first (the sync's hello) and write only its own bench's rows; a reader cannot write; a reviewer may change only labels (docs/labserver.md)"
		case codeAdminShutdown, codeCannotConnectNow:
			fix = "the server is shutting down or starting: the sync retries"
		case codeTooManyConnections:
			fix = "the server has too many connections: the sync retries; the admin may raise max_connections"
		case codeDeadlock, codeSerialization:
			fix = "another writer got in the way: the sync retries"
		case codeReadOnlyTransaction:
			fix = "the server is read-only (a standby?): point the bench at the primary"
		}
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT):
		fix = "connection refused: is the server running and is host/port right?"
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		fix = "no answer in time: check the network, the host and port, and any firewall"
	case strings.Contains(err.Error(), "x509") || strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "certificate"):
		fix = "TLS failed: check the root certificate (a PEM of the CA that signed the server's certificate) and, for verify-full, that the host name matches the certificate"
	case strings.Contains(err.Error(), "server refused TLS"):
		fix = "the server does not offer TLS: enable ssl on the server or choose TLS mode disable/prefer"
	case strings.Contains(err.Error(), "no such host"):
		fix = "unknown host name: check host in the connection string"
	}
	if fix == "" {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w (%s)", what, err, fix)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// rollback ends a transaction that was not committed (after Commit it does nothing).
func rollback(ctx context.Context, tx pgx.Tx) {
	_ = tx.Rollback(context.WithoutCancel(ctx))
}
