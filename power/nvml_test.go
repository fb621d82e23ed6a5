//go:build linux && cgo

package power

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNVMLMissing: on a machine without the NVIDIA driver, NVML is silently absent.
func TestNVMLMissing(t *testing.T) {
	sensors, problems := detectNVML(filepath.Join(t.TempDir(), "libnvidia-ml.so.1"))
	if len(sensors) != 0 || len(problems) != 0 {
		t.Errorf("missing library: sensors %v problems %v, want none", sensors, problems)
	}
}

// TestNVMLShim builds a stand-in libnvidia-ml (testdata/nvml/fake_nvml.c) and reads it
// through the dlopen shim: a GPU with the energy counter, and one with power only.
func TestNVMLShim(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler to build the stand-in NVML library")
	}
	lib := filepath.Join(t.TempDir(), "libnvidia-ml-fake.so")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, "testdata/nvml/fake_nvml.c").CombinedOutput(); err != nil {
		t.Fatalf("build fake NVML: %v\n%s", err, out)
	}
	sensors, problems := detectNVML(lib)
	if len(problems) != 0 || len(sensors) != 2 {
		t.Fatalf("sensors %v problems %v, want two GPUs", ids(sensors), problems)
	}
	g0, g1 := sensors[0].Info(), sensors[1].Info()
	if g0.ID != "nvml:gpu0" || g0.Kind != Counter || g0.Scope != ScopeGPU || !strings.Contains(g0.Label, "Fake H100") {
		t.Errorf("GPU 0 info %+v", g0)
	}
	if g1.Kind != Gauge || !strings.Contains(g1.Label, "Fake K80") {
		t.Errorf("GPU 1 info %+v, want a power gauge", g1)
	}
	// The fake counter advances 1500 mJ a read: the detection read one, so 3000 then 4500 mJ.
	for _, want := range []uint64{3_000_000, 4_500_000} {
		r, err := sensors[0].Read()
		if err != nil || r.EnergyUJ != want {
			t.Errorf("GPU 0 read %+v %v, want %d µJ", r, err, want)
		}
	}
	if r, err := sensors[1].Read(); err != nil || r.Watts != 61.25 {
		t.Errorf("GPU 1 read %+v %v, want 61.25 W", r, err)
	}
	if tot := ChooseTotal(sensors); tot.Name() != "nvml:gpu0 + nvml:gpu1" {
		t.Errorf("total %s", tot.Name())
	}
}
