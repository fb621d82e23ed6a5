// jpegdec decodes JPEG with libjpeg(-turbo) as OpenCV does, but with an error manager of
// its own: libjpeg decodes a JPEG whose entropy-coded data is corrupt (a flipped bit, a
// garbled copy) with only a warning on stderr, and OpenCV hands back the garbled pixels
// as a good frame. Here such a warning fails the decode with its message.
#ifndef PHYTOSCREEN_JPEGDEC_H
#define PHYTOSCREEN_JPEGDEC_H

typedef struct {
	int width, height; // expected, from the frame header
	char msg[200];     // the error or the corrupting warning
} pj_info;

// pj_decode decodes into out, rows of stride bytes, 1 channel (gray: the luma alone) or 3
// (BGR). It returns 0; -1 on an error; 1 when the data is corrupt (info->msg).
int pj_decode(const unsigned char *data, unsigned long size, int channels, unsigned char *out, int stride, pj_info *info);

#endif
