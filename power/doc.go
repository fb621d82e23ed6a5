// Package power measures what classification costs on this machine: it finds the energy
// and power sensors the machine has (RAPL, hwmon including INA3221 rails, a discharging
// battery, the Raspberry Pi 5 PMIC, NVIDIA GPUs through NVML), falls back to a labelled
// estimate from CPU time when there are none, and runs a Meter that samples them with the
// process's CPU, memory and classification timings into one Snapshot read by the GUI, the
// headless commands and the benchmark.
//
// Every figure carries the source it came from; an estimate is never presented as a
// reading. Detection takes a sysfs root so that tests run on fake trees copied from real
// machines (testdata/).
package power
