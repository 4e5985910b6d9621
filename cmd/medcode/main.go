// Command medcode is an explainable medical coding engine: it codes clinical
// notes into ICD-10-CM and ICD-10-PCS with evidence for every code, and looks
// up, validates and searches the classifications. Run "medcode help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/medcode-dev/medcode/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
