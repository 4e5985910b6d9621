//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package eval

// peakRSS is not available on this platform; the runtime's figure is used.
func peakRSS() int64 { return 0 }
