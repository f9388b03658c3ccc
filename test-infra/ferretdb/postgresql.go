// Test infrastructure only — NOT part of the product.

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// throwawayPrefix names the databases -postgresql-throwaway creates, and the
// only ones its sweep of abandoned databases may drop.
const throwawayPrefix = "ferretdb_throwaway_"

// defaultMaxConns sizes FerretDB's pool of PostgreSQL connections where
// neither -postgresql-max-conns nor the URL's pool_max_conns does. FerretDB's
// own default, 50, is half of a default max_connections (100), so a test run,
// a benchmark and a shared server would not fit together. Past the bound a
// request waits for a connection (pgxpool) rather than failing.
const defaultMaxConns = 20

// abandonedAfter: a throwaway database younger than this is never swept, so
// that a sweep cannot drop one between its CREATE and its owner's first connection.
const abandonedAfter = time.Minute

func defaultPostgreSQLURL() string {
	if u := os.Getenv("FERRETDB_POSTGRESQL_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres"
}

// reason is an error on one line: pgx puts the cause of a failed connection
// (one attempt per address) on indented lines after a generic first one.
func reason(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for _, line := range lines[1:] {
		if strings.HasPrefix(line, "\t") {
			return strings.TrimSpace(line)
		}
	}
	return lines[0]
}

// errBadURL is a usage error, not PostgreSQL being unavailable.
var errBadURL = errors.New("bad -postgresql-url")

// postgreSQL is the database FerretDB serves from.
type postgreSQL struct {
	url         string // FerretDB's, with the pool settings
	description string // for the "over" line, without credentials
	release     func() // drops a throwaway database; nothing otherwise
}

// openPostgreSQL checks that the server of rawURL accepts a connection and has
// room for FerretDB's pool (maxConns when positive, else the URL's
// pool_max_conns, else defaultMaxConns), and returns the database FerretDB is
// to use: rawURL's, or with throwaway a fresh one created beside it.
func openPostgreSQL(ctx context.Context, rawURL string, throwaway bool, maxConns int, logger *slog.Logger) (*postgreSQL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("%w: want a postgres:// URL, got %q", errBadURL, rawURL)
	}
	// pgxpool's pool_* settings are for FerretDB's URL only: a single pgx
	// connection would send them to the server, which refuses unknown settings.
	query, pool := u.Query(), url.Values{}
	for key, values := range query {
		if strings.HasPrefix(key, "pool_") {
			pool[key] = values
			query.Del(key)
		}
	}
	if maxConns > 0 {
		pool.Set("pool_max_conns", strconv.Itoa(maxConns))
	} else if !pool.Has("pool_max_conns") {
		pool.Set("pool_max_conns", strconv.Itoa(defaultMaxConns))
	}
	poolSize, err := strconv.Atoi(pool.Get("pool_max_conns"))
	if err != nil || poolSize < 1 {
		return nil, fmt.Errorf("%w: pool_max_conns must be a positive number, got %q", errBadURL, pool.Get("pool_max_conns"))
	}
	// The pool opens all its connections on FerretDB's first query and keeps
	// them: a run that has started cannot then fail because other clients
	// took the rest of max_connections while it grew.
	if !pool.Has("pool_min_conns") {
		pool.Set("pool_min_conns", strconv.Itoa(poolSize))
	}
	conn := *u
	conn.RawQuery = query.Encode()

	connectCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	admin, err := pgx.Connect(connectCtx, conn.String())
	if err != nil {
		return nil, err
	}
	defer admin.Close(context.Background())

	// This connection closes and the throwaway database's hold takes its place.
	free, err := freeConnections(connectCtx, admin)
	if err != nil {
		return nil, err
	}
	if free < poolSize {
		return nil, fmt.Errorf("only %d free connections at %s, FerretDB's pool needs %d", free, u.Host, poolSize)
	}

	database := strings.TrimPrefix(conn.Path, "/")
	release := func() {}
	if throwaway {
		d, err := createThrowawayDatabase(connectCtx, admin, &conn, logger)
		if err != nil {
			return nil, err
		}
		database = d.name
		release = func() {
			if err := d.drop(); err != nil {
				fmt.Fprintf(os.Stderr, "ferretdb-test: dropping database %s: %v\n", d.name, err)
			}
		}
	}

	ferret := conn
	ferret.Path = "/" + database
	for key, values := range pool {
		query[key] = values
	}
	ferret.RawQuery = query.Encode()
	description := fmt.Sprintf("PostgreSQL (database %s at %s)", database, u.Host)
	return &postgreSQL{url: ferret.String(), description: description, release: release}, nil
}

// freeConnections is how many more client connections the server accepts for conn's role.
func freeConnections(ctx context.Context, conn *pgx.Conn) (int, error) {
	var free int
	err := conn.QueryRow(ctx, `
		SELECT current_setting('max_connections')::int
			- CASE current_setting('is_superuser') WHEN 'on' THEN 0 ELSE current_setting('superuser_reserved_connections')::int END
			- (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')`).Scan(&free)
	return free, err
}

// throwawayDatabase is a PostgreSQL database created for one ferretdb-test
// process and dropped when it stops. The process holds a connection to it for
// its whole life: PostgreSQL refuses to drop a database anyone is connected
// to, which is how a later sweep tells a live run's database from one left by
// a process killed before it could drop its own (SIGKILL).
type throwawayDatabase struct {
	name     string
	adminURL string // the database it was created from, to drop it from
	hold     *pgx.Conn
}

// createThrowawayDatabase drops the throwaway databases of processes that are
// gone, then creates a fresh one on admin's server and connects to it.
func createThrowawayDatabase(ctx context.Context, admin *pgx.Conn, adminURL *url.URL, logger *slog.Logger) (*throwawayDatabase, error) {
	sweepAbandoned(ctx, admin, logger)

	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s%d_%s", throwawayPrefix, time.Now().Unix(), hex.EncodeToString(suffix))
	quoted := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+quoted); err != nil {
		return nil, fmt.Errorf("CREATE DATABASE %s: %w", name, err)
	}
	own := *adminURL
	own.Path = "/" + name
	hold, err := pgx.Connect(ctx, own.String())
	if err != nil {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+quoted)
		return nil, err
	}
	return &throwawayDatabase{name: name, adminURL: adminURL.String(), hold: hold}, nil
}

// sweepAbandoned drops the throwaway databases nobody is connected to. A
// plain DROP DATABASE fails while any session uses the database, so a live
// run's (held by its owner) is left alone; failures are not this run's concern.
func sweepAbandoned(ctx context.Context, conn *pgx.Conn, logger *slog.Logger) {
	// pg_stat_activity spares a DROP that would wait five seconds for a live run's connections to go.
	rows, err := conn.Query(ctx, `
		SELECT datname FROM pg_database d
		WHERE starts_with(datname, $1)
		AND NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.datname = d.datname)`, throwawayPrefix)
	if err != nil {
		logger.Warn("listing abandoned throwaway databases", "error", err)
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		logger.Warn("listing abandoned throwaway databases", "error", err)
		return
	}
	for _, name := range names {
		created, _, _ := strings.Cut(strings.TrimPrefix(name, throwawayPrefix), "_")
		seconds, err := strconv.ParseInt(created, 10, 64)
		if err != nil || time.Since(time.Unix(seconds, 0)) < abandonedAfter {
			continue
		}
		_, err = conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize())
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			logger.Info("dropped an abandoned throwaway database", "database", name)
		case errors.As(err, &pgErr) && pgErr.Code == "55006": // object_in_use: its run is alive
		default:
			logger.Warn("dropping an abandoned throwaway database", "database", name, "error", err)
		}
	}
}

// drop releases the database and drops it; FORCE ends any connection FerretDB's pool still has.
func (d *throwawayDatabase) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = d.hold.Close(ctx)
	conn, err := pgx.Connect(ctx, d.adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)")
	return err
}
