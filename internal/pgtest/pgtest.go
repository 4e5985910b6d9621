// Package pgtest gives tests a real, empty PostgreSQL database: the one
// $MEDCODE_TEST_POSTGRES names, or a server the test starts itself with
// initdb and pg_ctl and stops when it ends.
package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
)

// envTestPostgres names a PostgreSQL DSN for the tests to use instead of
// starting their own server.
const envTestPostgres = "MEDCODE_TEST_POSTGRES"

// DSN returns the DSN of a real, empty PostgreSQL database: the
// one named by $MEDCODE_TEST_POSTGRES, or a server the test starts itself
// with initdb and pg_ctl from the installed PostgreSQL (Debian's package,
// which .ci/run installs). Without either it fails; only an explicit
// MEDCODE_NO_POSTGRES=1 skips it.
func DSN(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv(envTestPostgres); dsn != "" {
		return dsn
	}
	bin, err := postgresBin()
	if err != nil {
		if os.Getenv("MEDCODE_NO_POSTGRES") == "1" {
			t.Skip("MEDCODE_NO_POSTGRES=1: the PostgreSQL store tests are not run")
		}
		t.Fatalf("PostgreSQL is required for this test: apt-get install postgresql (as .ci/run does), set %s, or set MEDCODE_NO_POSTGRES=1 to skip them knowingly: %v", envTestPostgres, err)
	}
	dir, err := os.MkdirTemp("", "medcode-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// initdb refuses to run as root: run the server as the postgres user
	// the package creates.
	var cred *syscall.Credential
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root and no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	data := filepath.Join(dir, "data")
	run("initdb", "-D", data, "-U", "medcode", "--auth=trust", "-E", "UTF8", "--no-sync")
	port := freePort(t)
	run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "-o",
		fmt.Sprintf("-k %s -p %d -c listen_addresses='' -c fsync=off -c max_connections=300", dir, port), "start")
	t.Cleanup(func() {
		cmd := exec.Command(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Run()
	})
	return fmt.Sprintf("postgres://medcode@/postgres?host=%s&port=%d&sslmode=disable", dir, port)
}

// postgresBin finds the directory with initdb and pg_ctl.
func postgresBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no initdb and pg_ctl on PATH or in /usr/lib/postgresql/*/bin")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// freePort returns a port number nothing listens on now; PostgreSQL only
// uses it to name its socket file.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
