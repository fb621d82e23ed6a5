package inference

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// RuntimeVersion is the ONNX Runtime release phytoscreen is built and tested against.
const RuntimeVersion = "1.24.1"

// LibraryEnv names the environment variable that points at the ONNX Runtime library.
const LibraryEnv = "PHYTOSCREEN_ORT_LIB"

// libraryNames are the file names the shared library goes by.
var libraryNames = []string{"libonnxruntime.so.1", "libonnxruntime.so", "libonnxruntime.so." + RuntimeVersion}

// FixHint is the command that provisions the library.
const FixHint = "run 'make deps' in the phytoscreen folder, or pass --ort-lib /path/to/libonnxruntime.so.1"

// ErrLibraryNotFound is returned (wrapped) when no candidate holds the library.
var ErrLibraryNotFound = errors.New("ONNX Runtime library not found")

// cacheRel is where scripts/deps.sh puts the library, relative to the project root.
func cacheRel() string {
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	return filepath.Join(".cache", "onnxruntime", RuntimeVersion, "linux-"+arch, "libonnxruntime.so.1")
}

// LibraryCandidates lists, in order, where the library is looked for: the flag, the
// environment variable, beside the executable, the project cache (found from the
// executable's folder and from the working folder upwards), then the system library paths.
func LibraryCandidates(flagPath string) []string {
	var c []string
	if flagPath != "" {
		return append(c, flagPath) // an explicit flag is the only candidate: no silent fallback
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		return append(c, env)
	}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		c = append(c, filepath.Join(dir, libraryNames[0]))
		c = append(c, filepath.Join(dir, "..", cacheRel()))
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				c = append(c, filepath.Join(dir, cacheRel()))
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	var sys []string
	if ld := os.Getenv("LD_LIBRARY_PATH"); ld != "" {
		sys = append(sys, filepath.SplitList(ld)...)
	}
	sys = append(sys, "/usr/local/lib", "/usr/lib", "/usr/lib/"+triplet(), "/lib/"+triplet(), "/usr/lib64")
	for _, d := range sys {
		for _, n := range libraryNames {
			c = append(c, filepath.Join(d, n))
		}
	}
	return c
}

func triplet() string {
	if runtime.GOARCH == "arm64" {
		return "aarch64-linux-gnu"
	}
	return "x86_64-linux-gnu"
}

// FindLibrary returns the first candidate that exists. The error lists what was tried
// and says how to fix it, in one line.
func FindLibrary(flagPath string) (string, error) {
	cands := LibraryCandidates(flagPath)
	for _, p := range cands {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return filepath.Clean(p), nil
		}
	}
	tried := summariseCandidates(flagPath, cands)
	return "", fmt.Errorf("%w (tried %s): %s", ErrLibraryNotFound, tried, FixHint)
}

func summariseCandidates(flagPath string, cands []string) string {
	if flagPath != "" {
		return "--ort-lib " + flagPath
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		return "$" + LibraryEnv + "=" + env
	}
	// The system paths are many: name the first few and count the rest.
	const shown = 4
	parts := []string{"--ort-lib (unset)", "$" + LibraryEnv + " (unset)"}
	for i, p := range cands {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d system library paths", len(cands)-shown))
			break
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

var (
	initMu   sync.Mutex
	initPath string
)

// InitRuntime finds and loads the ONNX Runtime library once per process and checks its
// version. Later calls return the first outcome's path; a different flag path after a
// successful load is an error, since one process can hold one runtime.
func InitRuntime(flagPath string) (string, error) {
	initMu.Lock()
	defer initMu.Unlock()
	if ort.IsInitialized() {
		if flagPath != "" && filepath.Clean(flagPath) != initPath {
			return initPath, fmt.Errorf("ONNX Runtime already loaded from %s; restart to use %s", initPath, flagPath)
		}
		return initPath, nil
	}
	path, err := FindLibrary(flagPath)
	if err != nil {
		return "", err
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		reason := strings.TrimRight(err.Error(), ": ")
		return "", fmt.Errorf("load ONNX Runtime from %s: %s: it must be ONNX Runtime %s (%s)", path, reason, RuntimeVersion, FixHint)
	}
	if v := ort.GetVersion(); !strings.HasPrefix(v, majorMinor(RuntimeVersion)) {
		_ = ort.DestroyEnvironment()
		return "", fmt.Errorf("ONNX Runtime at %s is version %s, phytoscreen needs %s: %s", path, v, RuntimeVersion, FixHint)
	}
	initPath = path
	return path, nil
}

// LoadedRuntimeVersion returns the version of the loaded runtime, or "" before InitRuntime.
func LoadedRuntimeVersion() string {
	if !ort.IsInitialized() {
		return ""
	}
	return ort.GetVersion()
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1] + "."
}
