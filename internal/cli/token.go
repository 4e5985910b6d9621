package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/medcode-dev/medcode/internal/store"
)

// envDB names the environment variable with the service's database: a
// PostgreSQL URL, or a SQLite file path. An environment variable, unlike
// --db, is not shown to other users by ps.
const envDB = "MEDCODE_DB"

// dbFlags are where the service's database is named: --db, or --db-file,
// a file holding the PostgreSQL URL (so that its password is in neither
// the command line nor the environment).
type dbFlags struct {
	dsn, file string
}

// add registers --db and --db-file on fs.
func (f *dbFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.dsn, "db", "", "database: a PostgreSQL URL or a SQLite file (default $MEDCODE_DB, else medcode.db in the data directory); a URL given here is visible in ps, prefer $MEDCODE_DB or --db-file")
	fs.StringVar(&f.file, "db-file", "", "file holding the database's PostgreSQL URL or SQLite path (first line), instead of --db")
}

// openStore opens the service's store: --db or --db-file when given, else
// $MEDCODE_DB, else medcode.db (SQLite) in the data directory. What the
// store warns about at opening goes to stderr.
func (a *app) openStore(ctx context.Context, f dbFlags) (*store.Store, error) {
	st, _, err := a.openStoreNamed(ctx, f)
	return st, err
}

// openStoreNamed is openStore, also returning the store's name (a
// PostgreSQL URL or a SQLite path), for a job queue that connects to it.
func (a *app) openStoreNamed(ctx context.Context, f dbFlags) (*store.Store, string, error) {
	dsn, err := a.storeDSN(f)
	if err != nil {
		return nil, "", err
	}
	st, err := a.openStoreDSN(ctx, dsn)
	return st, dsn, err
}

// storeDSN returns the name of the store openStore opens.
func (a *app) storeDSN(f dbFlags) (string, error) {
	dsn := f.dsn
	if f.file != "" {
		if dsn != "" {
			return "", errors.New("give the database with --db or --db-file, not both")
		}
		b, err := os.ReadFile(f.file)
		if err != nil {
			return "", fmt.Errorf("--db-file: %w", err)
		}
		dsn, _, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
		dsn = strings.TrimSpace(dsn)
		if dsn == "" {
			return "", fmt.Errorf("--db-file %s is empty", f.file)
		}
	}
	if dsn == "" {
		dsn = os.Getenv(envDB)
	}
	if dsn == "" {
		dsn = filepath.Join(a.dataDir, "medcode.db")
	}
	return dsn, nil
}

// openStoreDSN opens the store dsn names.
func (a *app) openStoreDSN(ctx context.Context, dsn string) (*store.Store, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	for _, w := range st.Warnings() {
		fmt.Fprintf(a.stderr, "medcode: warning: %s\n", w)
	}
	return st, nil
}

func newTokenCmd(a *app) *cobra.Command {
	var db dbFlags
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list, rotate and revoke API tokens of the coding service",
		Long: `Tokens authenticate calls to the coding service ("medcode serve"). Each
token belongs to a tenant and has a role: coder (submits notes, records
decisions), auditor (reads documents and the audit log, changes nothing) or
admin (everything, and manages the tenant's tokens). Only a hash of the
token is stored: the secret is printed once, at creation. A token's name
is unique among the live tokens of its tenant, and the audit log records
both. A token may expire (--ttl); rotating one issues a new secret under
the same name and revokes the old, at once or after --grace.`,
	}
	db.add(cmd.PersistentFlags())

	var role, tenant, name string
	var ttl time.Duration
	create := &cobra.Command{
		Use:     "create",
		Short:   "Create a token and print its secret",
		Example: "  medcode token create --role coder --name alice\n  medcode token create --role admin --tenant north --name ops\n  medcode token create --role coder --name ci --ttl 720h",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := store.ParseRole(role)
			if err != nil {
				return err
			}
			if name == "" {
				name = role
			}
			st, err := a.openStore(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer st.Close()
			if ttl < 0 {
				return errors.New("--ttl must not be negative")
			}
			secret, t, err := st.IssueToken(cmd.Context(), store.Actor{Tenant: tenant, Name: "medcode token create"}, store.TokenSpec{Name: name, Role: r, TTL: ttl})
			if errors.Is(err, store.ErrNameTaken) {
				return fmt.Errorf("tenant %s has a live token named %s: revoke or rotate it, or choose another --name", tenant, name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, secret)
			fmt.Fprintf(a.stderr, "created %s token %s (%s) for tenant %s%s; the secret above is shown only once\n", t.Role, t.ID, t.Name, t.Tenant, expiry(t))
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "", "coder, auditor or admin (required)")
	create.Flags().StringVar(&tenant, "tenant", "default", "tenant the token belongs to")
	create.Flags().StringVar(&name, "name", "", "who uses the token, shown in the audit log (default: the role)")
	create.Flags().DurationVar(&ttl, "ttl", 0, "lifetime of the token, e.g. 720h (default: until revoked)")
	create.MarkFlagRequired("role")

	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer st.Close()
			toks, err := st.ListTokens(cmd.Context(), "")
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTENANT\tNAME\tROLE\tCREATED\tEXPIRES\tREVOKED")
			when := func(t time.Time) string {
				if t.IsZero() {
					return "-"
				}
				return t.Format("2006-01-02 15:04")
			}
			for _, t := range toks {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Tenant, t.Name, t.Role, when(t.Created), when(t.Expires), when(t.Revoked))
			}
			return tw.Flush()
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer st.Close()
			return st.RevokeToken(cmd.Context(), store.Actor{Name: "medcode token revoke"}, "", args[0])
		},
	}
	var grace time.Duration
	rotate := &cobra.Command{
		Use:   "rotate NAME|ID",
		Short: "Issue a new secret for a token and revoke the old one",
		Long: `Rotate replaces a live token by a new one with the same tenant, name, role
and lifetime, prints the new secret once, and revokes the old token: at
once, or after --grace so that its clients can switch over. A name is
looked up in --tenant; an ID in any tenant.`,
		Example: "  medcode token rotate alice\n  medcode token rotate --tenant north --grace 1h ops\n  medcode token rotate tok_0123456789abcdef0123",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if grace < 0 {
				return errors.New("--grace must not be negative")
			}
			st, err := a.openStore(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer st.Close()
			t := tenant
			if !cmd.Flags().Changed("tenant") && strings.HasPrefix(args[0], "tok_") {
				t = ""
			}
			secret, tok, err := st.RotateToken(cmd.Context(), store.Actor{Name: "medcode token rotate"}, t, args[0], grace)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, secret)
			old := "the old secret is revoked"
			if grace > 0 {
				old = "the old secret works until " + time.Now().Add(grace).UTC().Format("2006-01-02 15:04") + " UTC"
			}
			fmt.Fprintf(a.stderr, "rotated %s into %s token %s (%s) for tenant %s%s; %s; the secret above is shown only once\n",
				tok.RotatedFrom, tok.Role, tok.ID, tok.Name, tok.Tenant, expiry(tok), old)
			return nil
		},
	}
	rotate.Flags().StringVar(&tenant, "tenant", "default", "tenant of the token named")
	rotate.Flags().DurationVar(&grace, "grace", 0, "how long the old secret keeps working, e.g. 1h (default: revoked at once)")
	cmd.AddCommand(create, list, rotate, revoke)
	return cmd
}

// expiry says when t expires, for a message.
func expiry(t *store.Token) string {
	if t.Expires.IsZero() {
		return ""
	}
	return ", expiring " + t.Expires.Format("2006-01-02 15:04") + " UTC"
}
