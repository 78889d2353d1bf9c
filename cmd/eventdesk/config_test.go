package main

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadConfig_Defaults(t *testing.T) {
	got, err := loadConfig(env(nil))
	if err != nil {
		t.Fatalf("loadConfig() = %v, want no error", err)
	}
	dataDir, _ := filepath.Abs("var/data")
	pgDir, _ := filepath.Abs("var/pg")
	want := config{
		DatabaseURL:      "postgres://postgres@127.0.0.1:5432/eventdesk?sslmode=disable",
		HTTPAddr:         ":8080",
		DataDir:          dataDir,
		LogLevel:         slog.LevelInfo,
		ShutdownTimeout:  15 * time.Second,
		DBMaxConns:       20,
		IdleInTxTimeout:  30 * time.Second,
		PollInterval:     500 * time.Millisecond,
		EmbeddedPG:       "auto",
		MaxUploadBytes:   25 << 20,
		GroupCommit:      2,
		IdempotencyTTL:   24 * time.Hour,
		HTTPReadTimeout:  60 * time.Second,
		HTTPIdleTimeout:  30 * time.Second,
		PublicURL:        "http://localhost:8080",
		DefaultDatabase:  true,
		EmbeddedDir:      pgDir,
		StreamQueueBytes: 1 << 20,
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(config{}, "PGBinDirs")); diff != "" {
		t.Errorf("loadConfig() mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadConfig_Values(t *testing.T) {
	got, err := loadConfig(env(map[string]string{
		"EVENTDESK_DATABASE_URL":       "postgres://u:secret@db.example:6543/desk",
		"EVENTDESK_REDIS_URL":          "redis://127.0.0.1:6379/0",
		"EVENTDESK_HTTP_ADDR":          "127.0.0.1:9000",
		"EVENTDESK_DATA_DIR":           "/srv/eventdesk",
		"EVENTDESK_LOG_LEVEL":          "DEBUG",
		"EVENTDESK_SHUTDOWN_TIMEOUT":   "3s",
		"EVENTDESK_DB_MAX_CONNS":       "64",
		"EVENTDESK_IDLE_IN_TX_TIMEOUT": "1m",
		"EVENTDESK_POLL_INTERVAL":      "50ms",
		"EVENTDESK_EMBEDDED_PG":        "never",
		"EVENTDESK_MAX_UPLOAD_BYTES":   "1048576",
		"EVENTDESK_GROUP_COMMIT":       "0",
		"EVENTDESK_IDEMPOTENCY_TTL":    "2h",
		"EVENTDESK_ALLOWED_ORIGINS":    "https://desk.example.com/, http://localhost:3000",
		"EVENTDESK_STREAM_QUEUE_BYTES": "65536",
		"EVENTDESK_TOKEN":              "eda_x",
		"PATH":                         "/opt/pg/bin:/usr/bin",
	}))
	if err != nil {
		t.Fatalf("loadConfig() = %v, want no error", err)
	}
	pgDir, _ := filepath.Abs("var/pg")
	want := config{
		DatabaseURL:      "postgres://u:secret@db.example:6543/desk",
		RedisURL:         "redis://127.0.0.1:6379/0",
		HTTPAddr:         "127.0.0.1:9000",
		DataDir:          "/srv/eventdesk",
		LogLevel:         slog.LevelDebug,
		ShutdownTimeout:  3 * time.Second,
		DBMaxConns:       64,
		IdleInTxTimeout:  time.Minute,
		PollInterval:     50 * time.Millisecond,
		EmbeddedPG:       "never",
		MaxUploadBytes:   1 << 20,
		IdempotencyTTL:   2 * time.Hour,
		HTTPReadTimeout:  60 * time.Second,
		HTTPIdleTimeout:  30 * time.Second,
		PublicURL:        "http://localhost:8080",
		DefaultDatabase:  false,
		EmbeddedDir:      pgDir,
		AllowedOrigins:   []string{"https://desk.example.com", "http://localhost:3000"},
		StreamQueueBytes: 64 << 10,
		Token:            "eda_x",
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(config{}, "PGBinDirs")); diff != "" {
		t.Errorf("loadConfig() mismatch (-want +got):\n%s", diff)
	}
	if n := len(got.PGBinDirs); n < 2 || got.PGBinDirs[n-2] != "/opt/pg/bin" || got.PGBinDirs[n-1] != "/usr/bin" {
		t.Errorf("PGBinDirs = %v, want PATH's directories last", got.PGBinDirs)
	}
}

func TestLoadConfig_BadValues(t *testing.T) {
	tests := []struct {
		name, value string
		wantInError string
	}{
		{"EVENTDESK_DATABASE_URL", "mysql://localhost/desk", "want a URL like postgres://"},
		{"EVENTDESK_DATABASE_URL", "postgres://127.0.0.1:5432", "names no database"},
		{"EVENTDESK_DATABASE_URL", "postgres:///desk", "names no host"},
		{"EVENTDESK_REDIS_URL", "127.0.0.1:6379", "want a URL like redis://"},
		{"EVENTDESK_REDIS_URL", "redis://", "names no host"},
		{"EVENTDESK_HTTP_ADDR", "8080", "is not host:port"},
		{"EVENTDESK_HTTP_ADDR", ":http", "has no valid port"},
		{"EVENTDESK_LOG_LEVEL", "loud", "is not a log level"},
		{"EVENTDESK_SHUTDOWN_TIMEOUT", "15", "is not a duration"},
		{"EVENTDESK_SHUTDOWN_TIMEOUT", "-1s", "must be positive"},
		{"EVENTDESK_DB_MAX_CONNS", "many", "is not a whole number"},
		{"EVENTDESK_DB_MAX_CONNS", "0", "is not a whole number"},
		{"EVENTDESK_IDLE_IN_TX_TIMEOUT", "0s", "must be positive"},
		{"EVENTDESK_POLL_INTERVAL", "fast", "is not a duration"},
		{"EVENTDESK_EMBEDDED_PG", "always", `is not one of auto, never`},
		{"EVENTDESK_IDEMPOTENCY_TTL", "a day", "is not a duration"},
		{"EVENTDESK_ALLOWED_ORIGINS", "desk.example.com", "is not an origin"},
		{"EVENTDESK_ALLOWED_ORIGINS", "https://desk.example.com/app", "is not an origin"},
		{"EVENTDESK_STREAM_QUEUE_BYTES", "100", "is not a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := loadConfig(env(map[string]string{tt.name: tt.value}))
			if err == nil {
				t.Fatalf("loadConfig() = nil, want an error naming %s", tt.name)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, tt.name+": ") || !strings.Contains(msg, tt.wantInError) {
				t.Errorf("got %q, want one line starting %q and containing %q", msg, tt.name+": ", tt.wantInError)
			}
		})
	}
}

func TestLoadConfig_ReportsEveryBadVariable(t *testing.T) {
	_, err := loadConfig(env(map[string]string{"EVENTDESK_HTTP_ADDR": "x", "EVENTDESK_POLL_INTERVAL": "x"}))
	if err == nil {
		t.Fatal("loadConfig() = nil, want two errors")
	}
	if got, want := len(strings.Split(err.Error(), "\n")), 2; got != want {
		t.Errorf("got %d lines in %q, want %d", got, err, want)
	}
}

func TestLoadConfig_PasswordNotEchoed(t *testing.T) {
	_, err := loadConfig(env(map[string]string{"EVENTDESK_DATABASE_URL": "postgres://u:hunter2@db.example:5432"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v, want an error without the password", err)
	}
}
