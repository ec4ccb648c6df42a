package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/crypto/bcrypt"

	"chat/accounts"
)

// config is everything the chat server can be told, from flags first and
// the environment second (a platform sets PORT), with working defaults so
// `go run ./cmd/chat` needs neither.
type config struct {
	Addr           string        // listen address; PORT overrides the port
	DataDir        string        // SQLite file and generated secrets live here
	XHeaders       bool          // trust X-Forwarded-* (behind a proxy)
	MaxConnections int           // open connections at once
	AccessLog      bool          // one log line per request
	AllowGuests    bool          // guest sign-in with a nickname
	NewUsersPerMin int           // guests and sign-ups one address may create a minute; 0: no bound
	BcryptCost     int           // cost of password hashes; tests lower it
	DebugAddr      string        // where /stats listens; empty: nowhere
	MetricsAddr    string        // where /metrics listens without sign-in; empty: only /admin/metrics, for admins
	ShutdownGrace  time.Duration // how long a graceful stop may take
	CPUProfile     string        // write a CPU profile here until the server stops
	SetRole        string        // "name=role": change a user's role and exit
}

func loadConfig(args []string) (config, error) {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	c := config{}
	fs.StringVar(&c.Addr, "addr", envOr("CHAT_ADDR", "127.0.0.1:8080"), "listen address (env CHAT_ADDR; PORT sets the port and listens on all interfaces)")
	fs.StringVar(&c.DataDir, "data", envOr("CHAT_DATA_DIR", "data"), "data directory (env CHAT_DATA_DIR)")
	fs.BoolVar(&c.XHeaders, "xheaders", envBool("CHAT_XHEADERS", false), "trust X-Forwarded-For/-Proto from a proxy (env CHAT_XHEADERS)")
	fs.IntVar(&c.MaxConnections, "max-conns", envInt("CHAT_MAX_CONNS", 16000), "most open connections (env CHAT_MAX_CONNS)")
	fs.BoolVar(&c.AccessLog, "access-log", envBool("CHAT_ACCESS_LOG", true), "log every request (env CHAT_ACCESS_LOG)")
	fs.BoolVar(&c.AllowGuests, "guests", envBool("CHAT_GUESTS", true), "allow guest sign-in with a nickname (env CHAT_GUESTS)")
	fs.IntVar(&c.NewUsersPerMin, "new-users-per-minute", envInt("CHAT_NEW_USERS_PER_MINUTE", accounts.DefaultNewUsersPerMinute), "guests and sign-ups one client address may create a minute, 0 for no bound (load tests) (env CHAT_NEW_USERS_PER_MINUTE)")
	fs.IntVar(&c.BcryptCost, "bcrypt-cost", envInt("CHAT_BCRYPT_COST", accounts.DefaultBcryptCost), "bcrypt cost of password hashes, 4 to 31; lower it only for tests (env CHAT_BCRYPT_COST)")
	fs.StringVar(&c.DebugAddr, "debug-addr", envOr("CHAT_DEBUG_ADDR", ""), "serve /stats (loop, store, rooms) on this separate address, e.g. 127.0.0.1:6060 (env CHAT_DEBUG_ADDR)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", envOr("CHAT_METRICS_ADDR", ""), "serve GET /metrics (Prometheus text format) with no sign-in on this separate address, e.g. 127.0.0.1:9100; keep it private (env CHAT_METRICS_ADDR)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile to this file until the server stops (for go tool pprof)")
	fs.StringVar(&c.SetRole, "set-role", "", "give a registered user a role and exit, e.g. -set-role ada=moderator (user, moderator or admin)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", envDuration("CHAT_SHUTDOWN_GRACE", 10*time.Second), "how long a graceful stop may take (env CHAT_SHUTDOWN_GRACE)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost {
		return c, fmt.Errorf("-bcrypt-cost %d: want %d to %d", c.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if port := os.Getenv("PORT"); port != "" {
		if _, err := strconv.Atoi(port); err != nil {
			return c, fmt.Errorf("PORT=%q is not a port number", port)
		}
		c.Addr = ":" + port
	}
	return c, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envBool(key string, def bool) bool {
	if v, err := strconv.ParseBool(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(key)); err == nil {
		return v
	}
	return def
}
