// OpenCV's thread pool setting, which gocv 0.31 does not expose.
#include <opencv2/core.hpp>
#include "threads.h"

extern "C" void phytoscreen_set_num_threads(int n) { cv::setNumThreads(n); }
extern "C" int phytoscreen_get_num_threads(void) { return cv::getNumThreads(); }
