// Package bench reproduces, on the user's own machine, the study of a base model against
// its optimised form under system stress: it runs every combination of model, ONNX Runtime
// threads, batch size, scenario (MLPerf single-stream and offline) and synthetic CPU
// stress on real images, measures each with a power.Meter, adds a bare ONNX Runtime
// baseline so the pipeline's overhead shows as a ratio, and writes results.csv, report.md
// and PNG plots.
package bench
