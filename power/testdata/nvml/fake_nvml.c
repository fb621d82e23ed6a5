/* A stand-in for libnvidia-ml.so.1 with the few functions phytoscreen calls, built by
 * power's tests (cc -shared) to exercise the dlopen shim on machines without NVIDIA.
 * Device 0 has an energy counter that advances 1500 mJ per read and draws 42.5 W;
 * device 1 is an older GPU without the energy counter (NVML_ERROR_NOT_SUPPORTED). */
#include <string.h>

typedef int nvmlReturn_t;
typedef void *nvmlDevice_t;
static int devs[2];
static unsigned long long energy_mj = 0;

nvmlReturn_t nvmlInit_v2(void) { return 0; }
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *n) { *n = 2; return 0; }
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d) {
	if (i > 1) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
	*d = &devs[i];
	return 0;
}
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *buf, unsigned int n) {
	strncpy(buf, d == &devs[0] ? "Fake H100" : "Fake K80", n);
	return 0;
}
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *mj) {
	if (d != &devs[0]) return 3; /* NVML_ERROR_NOT_SUPPORTED */
	energy_mj += 1500;
	*mj = energy_mj;
	return 0;
}
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) {
	*mw = d == &devs[0] ? 42500 : 61250;
	return 0;
}
const char *nvmlErrorString(nvmlReturn_t r) { return r == 3 ? "Not Supported" : "Unknown Error"; }
