//go:build !unix

package inputfile

// openFlags: systems without FIFOs in the file system need no flag.
const openFlags = 0
