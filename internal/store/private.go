package store

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// Modes of the files that hold notes (PHI) and token hashes: only their
// owner may read them.
const (
	privateDir  os.FileMode = 0o700
	privateFile os.FileMode = 0o600
)

// sqliteFiles lists the files SQLite keeps for the database at path: the
// database and, in WAL mode, its log and shared-memory index, which hold
// recent pages of the database and so note text.
func sqliteFiles(path string) []string {
	return []string{path, path + "-wal", path + "-shm"}
}

// preparePrivate creates the directory of the SQLite database at path
// (0700) and the database file (0600) when they do not exist, and
// tightens the database files that exist to 0600. SQLite gives the -wal
// and -shm files it creates the mode of the database file, so creating
// that one private keeps all three private. An existing directory is not
// changed, since it may be shared (the data directory of a team, /tmp):
// the caller is told, through the returned warning, when others may list
// or enter it.
func preparePrivate(path string) (warning string, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, privateDir); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, privateFile)
	if err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	for _, p := range sqliteFiles(path) {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if fi.Mode().Perm()&^privateFile != 0 {
			if err := os.Chmod(p, privateFile); err != nil {
				return "", fmt.Errorf("restrict %s to its owner: %w", p, err)
			}
		}
	}
	if runtime.GOOS == "windows" {
		// Windows has no group and other bits to check: access is its
		// ACLs' business.
		return "", nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("the directory of the database, %s, is open to other users (mode %04o): the database files are private, but consider chmod 700 %s", dir, fi.Mode().Perm(), dir), nil
	}
	return "", nil
}

// passwordKV matches the password of a keyword/value connection string
// (password=secret or password='se cret').
var passwordKV = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// Redact returns dsn with its password replaced by "xxxxx", so that a
// PostgreSQL URL or keyword/value string can be logged or shown in an
// error. A SQLite path is returned as it is.
func Redact(dsn string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// Where an unparsable URL's password ends is a guess: show
			// only its scheme.
			return dsn[:strings.Index(dsn, "://")+3] + "(redacted)"
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return passwordKV.ReplaceAllString(dsn, "${1}xxxxx")
}

// secrets returns the passwords dsn holds, to be scrubbed from the
// messages of errors the driver returns (some quote the connection
// string).
func secrets(dsn string) []string {
	var out []string
	if u, err := url.Parse(dsn); err == nil {
		if p, has := u.User.Password(); has && p != "" {
			out = append(out, p)
		}
		if p := u.Query().Get("password"); p != "" {
			out = append(out, p)
		}
	}
	for _, m := range passwordKV.FindAllStringSubmatch(dsn, -1) {
		if p := strings.Trim(m[2], "'"); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// redactedError is an error whose message has the connection's passwords
// replaced; errors.Is and errors.As still see the driver's error.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
		msg = strings.ReplaceAll(msg, url.QueryEscape(s), "xxxxx")
		msg = strings.ReplaceAll(msg, url.PathEscape(s), "xxxxx")
	}
	return msg
}

func (e *redactedError) Unwrap() error { return e.err }

// redactErr wraps err so that its message never shows a password of dsn.
func redactErr(err error, dsn string) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: err, secrets: secrets(dsn)}
}
