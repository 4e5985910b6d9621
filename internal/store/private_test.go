//go:build unix

package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// A fresh store is private whatever the umask: its directory 0700 and the
// database, its log and its shared-memory index 0600.
func TestSQLiteFreshIsPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "medcode.db")
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.CreateToken(context.Background(), "default", "alice", Coder); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("data directory mode %04o, want 0700", m)
	}
	for _, p := range sqliteFiles(path) {
		if m := mode(t, p); m != 0o600 {
			t.Errorf("%s mode %04o, want 0600", filepath.Base(p), m)
		}
	}
	if w := s.Warnings(); len(w) != 0 {
		t.Errorf("warnings on a private directory: %q", w)
	}
}

// Database files left readable by others are tightened; a directory open
// to others is left as it is (it may be shared) and warned about.
func TestSQLiteLooseIsTightened(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "medcode.db")
	for _, p := range sqliteFiles(path) {
		if p != path {
			continue // SQLite recreates -wal and -shm with the database's mode
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range sqliteFiles(path) {
		if m := mode(t, p); m != 0o600 {
			t.Errorf("%s mode %04o, want 0600", filepath.Base(p), m)
		}
	}
	if m := mode(t, dir); m != 0o755 {
		t.Errorf("directory mode changed to %04o", m)
	}
	w := s.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "open to other users") || !strings.Contains(w[0], "chmod 700") {
		t.Errorf("warnings %q, want one about the directory", w)
	}
}

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://medcode:s3cret@db.internal/medcode?sslmode=verify-full", "postgres://medcode:xxxxx@db.internal/medcode?sslmode=verify-full"},
		{"postgresql://u:p%40ss@h:5432/d", "postgresql://u:xxxxx@h:5432/d"},
		{"postgres://h/d?user=u&password=s3cret", "postgres://h/d?password=xxxxx&user=u"},
		{"postgres://u@h/d", "postgres://u@h/d"},
		{"host=h user=u password=s3cret dbname=d", "host=h user=u password=xxxxx dbname=d"},
		{"host=h password='se cret' dbname=d", "host=h password=xxxxx dbname=d"},
		{"/var/lib/medcode/medcode.db", "/var/lib/medcode/medcode.db"},
		{"postgres://u:s3cret@h:bad port/d", "postgres://(redacted)"},
	} {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// An error opening PostgreSQL names the server but never the password,
// even when the driver quotes the connection string.
func TestPostgresErrorRedacted(t *testing.T) {
	const secret = "s3cret-Pa55"
	dsn := "postgres://medcode:" + secret + "@127.0.0.1:1/medcode?connect_timeout=2&sslmode=disable"
	_, err := OpenPostgres(context.Background(), dsn)
	if err == nil {
		t.Fatal("opened a store on port 1")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), "postgres://medcode:xxxxx@127.0.0.1:1/medcode") {
		t.Errorf("error does not name the redacted URL: %v", err)
	}

	driver := errors.New("cannot parse `" + dsn + "`: failed")
	if got := redactErr(driver, dsn); strings.Contains(got.Error(), secret) || !errors.Is(got, driver) {
		t.Errorf("redactErr = %v (Is %v)", got, errors.Is(got, driver))
	}
}

// A keyword/value connection string is PostgreSQL's, never the name of a
// SQLite file (which would put its password in a file name).
func TestKeywordValueIsPostgres(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	_, err := Open(context.Background(), "host=127.0.0.1 port=1 user=medcode password=s3cret dbname=medcode connect_timeout=2")
	if err == nil || !strings.Contains(err.Error(), "open postgres store") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %v, want a PostgreSQL error without the password", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files created: %v", ents)
	}
}
