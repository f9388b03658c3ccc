// Test infrastructure only — NOT part of the product.
//
// ferretdb-test embeds FerretDB v1 (github.com/FerretDB/FerretDB/ferretdb) so
// that integration tests can talk to a real MongoDB-wire-protocol server over
// TCP on loopback, backed by SQLite (default) or PostgreSQL. MongoDB itself is
// not available on the development/CI machines.
//
// Usage:
//
//	ferretdb-test [-listen 127.0.0.1:27017] [-dir DIR] [-handler sqlite|postgresql] [-postgresql-url URL] [-exit-with-stdin]
//
// Once the server accepts TCP connections it prints exactly one line to stdout:
//
//	ready mongodb://127.0.0.1:PORT/
//
// Logs (warn level and above) go to stderr. SIGINT/SIGTERM shut it down cleanly.
// Use "-listen 127.0.0.1:0" to let the OS pick a free port (read it from the ready line).
// With -exit-with-stdin it also shuts down when its stdin reaches end of file: a parent
// that holds the pipe (src/embedded-mongo.ts) takes the server with it even when killed
// with SIGKILL, so no orphan keeps the port and the data directory.
//
// The embedded FerretDB path does not start the telemetry reporter (it is only
// wired up in FerretDB's own cmd/ferretdb) and explicitly disables telemetry;
// no OpenTelemetry exporter is configured, so the only socket is the listener.
package main

import (
	"context"
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

// quietHandler demotes FerretDB's per-request WARN noise to DEBUG: it logs a
// full dump of every error response (e.g. each E11000 a test provokes on
// purpose) and every client disconnect at WARN level. Use -log-level debug to see them.
type quietHandler struct{ slog.Handler }

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn &&
		(strings.HasPrefix(r.Message, "Response header:") ||
			strings.HasPrefix(r.Message, "Response message:") ||
			r.Message == "Connection stopped") {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
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
	handler := flag.String("handler", "sqlite", "FerretDB handler: sqlite or postgresql")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL URL for -handler postgresql, e.g. postgres://127.0.0.1:5432/ferretdb")
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

	cfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
		Handler:  *handler,
	}

	switch *handler {
	case "sqlite":
		dataDir := *dir
		if dataDir == "" {
			if dataDir, err = os.MkdirTemp("", "ferretdb-test-"); err != nil {
				fmt.Fprintf(os.Stderr, "ferretdb-test: %v\n", err)
				return 1
			}
			defer os.RemoveAll(dataDir)
		} else if err = os.MkdirAll(dataDir, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb-test: %v\n", err)
			return 1
		}
		abs, err := filepath.Abs(dataDir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb-test: %v\n", err)
			return 1
		}
		// FerretDB requires a "file:" URI whose path is an existing directory ending with "/".
		u := url.URL{Scheme: "file", Path: strings.TrimSuffix(abs, "/") + "/", OmitHost: true}
		cfg.SQLiteURL = u.String()
	case "postgresql":
		if *pgURL == "" {
			fmt.Fprintln(os.Stderr, "ferretdb-test: -postgresql-url is required with -handler postgresql")
			return 2
		}
		cfg.PostgreSQLURL = *pgURL
	default:
		fmt.Fprintf(os.Stderr, "ferretdb-test: unknown -handler %q (want sqlite or postgresql)\n", *handler)
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

	fmt.Printf("ready %s\n", uri)

	if err := <-done; err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-test: %v\n", err)
		return 1
	}
	return 0
}
