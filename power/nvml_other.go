//go:build !(linux && cgo)

package power

// detectNVML finds nothing where cgo is off: NVML is reached through dlopen.
func detectNVML(lib string) ([]Sensor, []Problem) { return nil, nil }
