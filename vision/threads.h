#ifndef PHYTOSCREEN_CAPTURE_THREADS_H
#define PHYTOSCREEN_CAPTURE_THREADS_H
#ifdef __cplusplus
extern "C" {
#endif
void phytoscreen_set_num_threads(int n);
int phytoscreen_get_num_threads(void);
#ifdef __cplusplus
}
#endif
#endif
