module github.com/medcode-dev/medcode

go 1.26.0

require (
	github.com/kljensen/snowball v0.10.0
	github.com/spf13/cobra v1.10.2
	golang.org/x/text v0.44.0
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
)
