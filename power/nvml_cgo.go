//go:build linux && cgo

package power

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// A small shim over the few NVML calls phytoscreen makes, resolved with dlopen so that the
// program builds and runs on machines without the NVIDIA driver.
typedef int nvmlReturn_t;
typedef void *nvmlDevice_t;

static void *nvml_handle;
static nvmlReturn_t (*p_init)(void);
static nvmlReturn_t (*p_count)(unsigned int *);
static nvmlReturn_t (*p_handle)(unsigned int, nvmlDevice_t *);
static nvmlReturn_t (*p_name)(nvmlDevice_t, char *, unsigned int);
static nvmlReturn_t (*p_energy)(nvmlDevice_t, unsigned long long *);
static nvmlReturn_t (*p_power)(nvmlDevice_t, unsigned int *);
static const char *(*p_errstr)(nvmlReturn_t);

// Returns 0 on success, -1 when the library cannot be opened, -2 when a symbol is missing.
static int nvml_open(const char *path) {
	if (nvml_handle) return 0;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) return -1;
	p_init = dlsym(h, "nvmlInit_v2");
	p_count = dlsym(h, "nvmlDeviceGetCount_v2");
	p_handle = dlsym(h, "nvmlDeviceGetHandleByIndex_v2");
	p_name = dlsym(h, "nvmlDeviceGetName");
	p_energy = dlsym(h, "nvmlDeviceGetTotalEnergyConsumption");
	p_power = dlsym(h, "nvmlDeviceGetPowerUsage");
	p_errstr = dlsym(h, "nvmlErrorString");
	if (!p_init || !p_count || !p_handle || !p_name || !p_power) { dlclose(h); return -2; }
	nvml_handle = h;
	return 0;
}
static const char *nvml_dlerror(void) { const char *e = dlerror(); return e ? e : "unknown error"; }
static nvmlReturn_t nvml_init(void) { return p_init(); }
static nvmlReturn_t nvml_count(unsigned int *n) { return p_count(n); }
static nvmlReturn_t nvml_handle_at(unsigned int i, nvmlDevice_t *d) { return p_handle(i, d); }
static nvmlReturn_t nvml_name(nvmlDevice_t d, char *buf, unsigned int n) { return p_name(d, buf, n); }
static int nvml_has_energy(void) { return p_energy != 0; }
static nvmlReturn_t nvml_energy(nvmlDevice_t d, unsigned long long *mj) { return p_energy(d, mj); }
static nvmlReturn_t nvml_power(nvmlDevice_t d, unsigned int *mw) { return p_power(d, mw); }
static const char *nvml_errstr(nvmlReturn_t r) { return p_errstr ? p_errstr(r) : "NVML error"; }
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

var (
	nvmlMu     sync.Mutex
	nvmlLoaded string // the library the process holds; one per process
)

func nvmlError(call string, r C.nvmlReturn_t) error {
	return fmt.Errorf("NVML %s: %s (code %d)", call, C.GoString(C.nvml_errstr(r)), int(r))
}

// detectNVML opens the NVML library (lib: a file name or path; "" means libnvidia-ml.so.1)
// and returns one sensor per GPU: the total energy counter (millijoules since the driver
// loaded, Volta and later) where the GPU has it, else its power draw. A missing library is
// not a problem: most machines have no NVIDIA GPU.
func detectNVML(lib string) ([]Sensor, []Problem) {
	if lib == "" {
		lib = "libnvidia-ml.so.1"
	}
	nvmlMu.Lock()
	defer nvmlMu.Unlock()
	if nvmlLoaded != "" && nvmlLoaded != lib {
		return nil, []Problem{{Source: SourceNVML, Path: lib, Err: fmt.Errorf("NVML is already loaded from %s; restart to use %s", nvmlLoaded, lib)}}
	}
	cpath := C.CString(lib)
	defer C.free(unsafe.Pointer(cpath))
	switch C.nvml_open(cpath) {
	case -1:
		return nil, nil
	case -2:
		return nil, []Problem{{Source: SourceNVML, Path: lib, Err: fmt.Errorf("%s lacks NVML functions phytoscreen needs: update the NVIDIA driver", lib)}}
	}
	nvmlLoaded = lib
	if r := C.nvml_init(); r != 0 {
		return nil, []Problem{{Source: SourceNVML, Path: lib, Err: nvmlError("init", r)}}
	}
	var n C.uint
	if r := C.nvml_count(&n); r != 0 {
		return nil, []Problem{{Source: SourceNVML, Path: lib, Err: nvmlError("device count", r)}}
	}
	var sensors []Sensor
	var problems []Problem
	for i := C.uint(0); i < n; i++ {
		var d C.nvmlDevice_t
		if r := C.nvml_handle_at(i, &d); r != 0 {
			problems = append(problems, Problem{Source: SourceNVML, Path: lib, Err: nvmlError(fmt.Sprintf("device %d", i), r)})
			continue
		}
		var buf [96]C.char
		name := fmt.Sprintf("GPU %d", i)
		if C.nvml_name(d, &buf[0], C.uint(len(buf))) == 0 {
			name = C.GoString(&buf[0])
		}
		g := &nvmlGPU{dev: d, info: Info{ID: fmt.Sprintf("nvml:gpu%d", i), Label: fmt.Sprintf("NVIDIA %s (GPU %d)", name, i),
			Source: SourceNVML, Scope: ScopeGPU, Path: lib}}
		var mj C.ulonglong
		if C.nvml_has_energy() != 0 && C.nvml_energy(d, &mj) == 0 {
			g.info.Kind, g.energy = Counter, true
		} else {
			var mw C.uint
			if r := C.nvml_power(d, &mw); r != 0 {
				problems = append(problems, Problem{Source: SourceNVML, Path: lib, Err: fmt.Errorf("%s: %w", g.info.Label, nvmlError("power usage", r))})
				continue
			}
			g.info.Kind = Gauge
		}
		sensors = append(sensors, g)
	}
	return sensors, problems
}

// nvmlGPU reads one GPU through NVML.
type nvmlGPU struct {
	info   Info
	dev    C.nvmlDevice_t
	energy bool
}

// Info implements Sensor.
func (g *nvmlGPU) Info() Info { return g.info }

// Read implements Sensor.
func (g *nvmlGPU) Read() (Reading, error) {
	if g.energy {
		var mj C.ulonglong
		if r := C.nvml_energy(g.dev, &mj); r != 0 {
			return Reading{}, fmt.Errorf("%s: %w", g.info.Label, nvmlError("total energy", r))
		}
		return Reading{EnergyUJ: uint64(mj) * 1000}, nil
	}
	var mw C.uint
	if r := C.nvml_power(g.dev, &mw); r != 0 {
		return Reading{}, fmt.Errorf("%s: %w", g.info.Label, nvmlError("power usage", r))
	}
	return Reading{Watts: float64(mw) / 1000}, nil
}
