// Test infrastructure only — NOT part of the product.
//
// ferretdb-test embeds FerretDB v1 (github.com/FerretDB/FerretDB/ferretdb) so
// that integration tests can talk to a real MongoDB-wire-protocol server over
// TCP on loopback, backed by SQLite (default) or PostgreSQL. MongoDB itself is
// not available on the development/CI machines.
//
// Usage:
//
//	ferretdb-test [-listen 127.0.0.1:27017] [-dir DIR] [-handler sqlite|postgresql|auto]
//	              [-postgresql-url URL] [-postgresql-throwaway] [-postgresql-max-conns N] [-exit-with-stdin]
//
// -handler auto is PostgreSQL when the server of -postgresql-url accepts a
// connection and has room for FerretDB's pool, SQLite otherwise: the one place
// that decides whether PostgreSQL is usable. -postgresql-url defaults to
// $FERRETDB_POSTGRESQL_URL, else postgres://postgres@127.0.0.1:5432/postgres.
// With -postgresql-throwaway that database only serves to create a fresh one
// (ferretdb_throwaway_*) which this process uses and drops when it stops; the
// next one started also drops those left by a process killed with SIGKILL.
// FerretDB's pool opens -postgresql-max-conns connections (default 20) on its
// first query and keeps them.
//
// Once the server accepts TCP connections it prints two lines to stdout, the
// second one last:
//
//	over SQLite|PostgreSQL (...)
//	ready mongodb://127.0.0.1:PORT/
//
// Logs (warn level and above) go to stderr. SIGINT/SIGTERM shut it down cleanly.
// Use "-listen 127.0.0.1:0" to let the OS pick a free port (read it from the ready line).
// With -exit-with-stdin it also shuts down when its stdin reaches end of file: a parent
// that holds the pipe (src/embedded-mongo.ts) takes the server with it even when killed
// with SIGKILL, so no orphan keeps the port, the data directory or the database.
//
// The embedded FerretDB path does not start the telemetry reporter (it is only
// wired up in FerretDB's own cmd/ferretdb) and explicitly disables telemetry;
// no OpenTelemetry exporter is configured, so the only socket is the listener.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// quietHandler demotes FerretDB's per-request noise to DEBUG: it logs a full
// dump of every error response (e.g. each E11000 a test provokes on purpose)
// and every client disconnect at WARN level, and over PostgreSQL each query
// refused for a duplicate key (that same E11000) at ERROR level. Use
// -log-level debug to see them.
type quietHandler struct{ slog.Handler }

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if (r.Level == slog.LevelWarn &&
		(strings.HasPrefix(r.Message, "Response header:") ||
			strings.HasPrefix(r.Message, "Response message:") ||
			r.Message == "Connection stopped")) ||
		(r.Level == slog.LevelError && r.Message == "Query" && isDuplicateKey(r)) {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

// isDuplicateKey: the query failed on a unique index (SQLSTATE 23505, unique_violation).
func isDuplicateKey(r slog.Record) bool {
	duplicate := false
	r.Attrs(func(a slog.Attr) bool {
		duplicate = a.Key == "err" && strings.Contains(a.Value.String(), "(SQLSTATE 23505)")
		return !duplicate
	})
	return duplicate
}

func (h *quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &quietHandler{h.Handler.WithAttrs(attrs)}
}

func (h *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{h.Handler.WithGroup(name)}
}

func main() {
	os.Exit(run())
}

func run() int {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (loopback only; port 0 picks a free port)")
	dir := flag.String("dir", "", "SQLite data directory (created if missing; default: a fresh temp dir removed on exit)")
	handler := flag.String("handler", "sqlite", "FerretDB handler: sqlite, postgresql, or auto (PostgreSQL when reachable, else SQLite)")
	pgURL := flag.String("postgresql-url", defaultPostgreSQLURL(), "PostgreSQL URL (default $FERRETDB_POSTGRESQL_URL, else the local server's postgres database)")
	throwaway := flag.Bool("postgresql-throwaway", false, "use a fresh database beside -postgresql-url's, dropped on exit")
	maxConns := flag.Int("postgresql-max-conns", 0, "size of FerretDB's pool of PostgreSQL connections, opened on its first query and kept (default: pool_max_conns in the URL, else 20)")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn, error")
	exitWithStdin := flag.Bool("exit-with-stdin", false, "shut down when stdin is closed (the parent process is gone)")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-test: bad -log-level: %v\n", err)
		return 2
	}
	logger := slog.New(&quietHandler{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})})

	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-test: bad -listen %q: %v\n", *listen, err)
		return 2
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(os.Stderr, "ferretdb-test: -listen must be a loopback address, got %q\n", *listen)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *exitWithStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	cfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
	}

	var over string // the storage, for the "over" line
	switch *handler {
	case "sqlite":
		over = "SQLite"
	case "postgresql", "auto":
		pg, err := openPostgreSQL(ctx, *pgURL, *throwaway, *maxConns, logger)
		if err == nil {
			defer pg.release()
			cfg.Handler, cfg.PostgreSQLURL, over = "postgresql", pg.url, pg.description
			break
		}
		if errors.Is(err, errBadURL) {
			fmt.Fprintf(os.Stderr, "ferretdb-test: %v\n", err)
			return 2
		}
		if *handler == "postgresql" {
			fmt.Fprintf(os.Stderr, "ferretdb-test: PostgreSQL unavailable: %s\n", reason(err))
			return 1
		}
		over = fmt.Sprintf("SQLite (PostgreSQL unavailable: %s)", reason(err))
	default:
		fmt.Fprintf(os.Stderr, "ferretdb-test: unknown -handler %q (want sqlite, postgresql or auto)\n", *handler)
		return 2
	}
	if cfg.Handler == "" {
		sqliteURL, cleanup, err := openSQLite(*dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb-test: %v\n", err)
			return 1
		}
		defer cleanup()
		cfg.Handler, cfg.SQLiteURL = "sqlite", sqliteURL
	}

	// New binds the TCP listener synchronously.
	f, err := ferretdb.New(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-test: %v\n", err)
		return 1
	}

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	uri := f.MongoDBURI()
	u, err := url.Parse(uri)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-test: bad URI %q: %v\n", uri, err)
		return 1
	}

	// Wait until the accept loop really serves connections.
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", u.Host, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			fmt.Fprintf(os.Stderr, "ferretdb-test: server at %s never accepted connections: %v\n", u.Host, err)
			stop()
			<-done
			return 1
		}
		time.Sleep(20 * time.Millisecond)
	}

	fmt.Printf("over %s\nready %s\n", over, uri)

	if err := <-done; err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-test: %v\n", err)
		return 1
	}
	return 0
}

// openSQLite returns FerretDB's SQLite URL for dir, or for a fresh temporary
// directory that cleanup removes when dir is empty.
func openSQLite(dir string) (sqliteURL string, cleanup func(), err error) {
	cleanup = func() {}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ferretdb-test-"); err != nil {
			return "", nil, err
		}
		temporary := dir
		cleanup = func() { os.RemoveAll(temporary) }
	} else if err = os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	// FerretDB requires a "file:" URI whose path is an existing directory ending with "/".
	u := url.URL{Scheme: "file", Path: strings.TrimSuffix(abs, "/") + "/", OmitHost: true}
	return u.String(), cleanup, nil
}
