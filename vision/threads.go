package vision

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include "threads.h"
*/
import "C"

// SetOpenCVThreads sets how many threads OpenCV's own parallel loops may use (n <= 0
// restores OpenCV's default, one per core). Segmentation runs on one core when it is 1:
// the app calls it to leave cores to the classifier, the benchmarks to measure one core.
// gocv 0.31 does not wrap cv::setNumThreads, hence this small cgo shim.
func SetOpenCVThreads(n int) {
	if n <= 0 {
		n = -1 // OpenCV: "reset to the default"
	}
	C.phytoscreen_set_num_threads(C.int(n))
}

// OpenCVThreads returns the number of threads OpenCV's parallel loops use.
func OpenCVThreads() int { return int(C.phytoscreen_get_num_threads()) }
