package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQLConfig says where the MySQL database is. Password is never logged: the
// type logs itself through LogValue without it.
type MySQLConfig struct {
	Host     string
	Port     int
	User     string
	Password string
	Database string
}

// LogValue lets slog print the settings without the password.
func (c MySQLConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.addr()),
		slog.String("user", c.User),
		slog.String("database", c.Database),
	)
}

// String describes the settings without the password.
func (c MySQLConfig) String() string {
	return fmt.Sprintf("%s@%s/%s", c.User, c.addr(), c.Database)
}

func (c MySQLConfig) addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// DriverConfig builds the go-sql-driver settings: UTC timestamps parsed into
// time.Time and timeouts so a dead server fails fast instead of hanging.
func (c MySQLConfig) DriverConfig() *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User = c.User
	cfg.Passwd = c.Password
	cfg.Net = "tcp"
	cfg.Addr = c.addr()
	cfg.DBName = c.Database
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Timeout = 5 * time.Second
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	// The handshake already asks for utf8mb4 (utf8mb4_general_ci), so no SET NAMES round trip.
	// The driver's own log lines repeat errors it also returns; keep them at debug level.
	cfg.Logger = driverLogger{}
	return cfg
}

type driverLogger struct{}

func (driverLogger) Print(v ...any) { slog.Debug("mysql driver: " + fmt.Sprint(v...)) }

var mysqlDialect = dialect{
	name: "MySQL",
	schema: []string{`CREATE TABLE IF NOT EXISTS todos (
		id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
		title VARCHAR(200) NOT NULL,
		label VARCHAR(50) NOT NULL DEFAULT '',
		completed BOOLEAN NOT NULL DEFAULT FALSE,
		created_at DATETIME(3) NOT NULL,
		updated_at DATETIME(3) NOT NULL,
		KEY todos_created_at (created_at)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`},
	timeArg: func(t time.Time) any { return t },
}

// OpenMySQL connects once: it checks the server answers and creates the todos
// table if it is missing. ConnectInBackground retries it until it succeeds.
func OpenMySQL(ctx context.Context, c MySQLConfig) (*SQL, error) {
	connector, err := mysql.NewConnector(c.DriverConfig())
	if err != nil {
		return nil, fmt.Errorf("MySQL settings for %s: %w", c, err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(16)
	// Recycle connections so a failed-over RDS endpoint is picked up.
	db.SetConnMaxLifetime(5 * time.Minute)
	db.SetConnMaxIdleTime(time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to MySQL at %s: %w", c, err)
	}
	s, err := newSQL(ctx, db, mysqlDialect)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("MySQL at %s: %w", c, err)
	}
	return s, nil
}
