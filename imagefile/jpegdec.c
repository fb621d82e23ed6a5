#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "jpegdec.h"

typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	pj_info *info;
	int corrupt;
} pj_error;

static void pj_error_exit(j_common_ptr c) {
	pj_error *e = (pj_error *)c->err;
	(*c->err->format_message)(c, e->info->msg);
	longjmp(e->jump, 1);
}

// pj_emit takes libjpeg's warnings (level -1) instead of printing them: those that say
// the image data is damaged mark the decode corrupt; the others (an unknown JFIF
// revision, bytes after the image, a bad ICC profile) do not touch the pixels.
static void pj_emit(j_common_ptr c, int level) {
	pj_error *e = (pj_error *)c->err;
	if (level >= 0) {
		return; // trace messages
	}
	switch (c->err->msg_code) {
	case JWRN_ARITH_BAD_CODE:
	case JWRN_BOGUS_PROGRESSION:
	case JWRN_HIT_MARKER:
	case JWRN_HUFF_BAD_CODE:
	case JWRN_JPEG_EOF:
	case JWRN_MUST_RESYNC:
	case JWRN_NOT_SEQUENTIAL:
		if (!e->corrupt) {
			(*c->err->format_message)(c, e->info->msg);
		}
		e->corrupt = 1;
		break;
	}
	c->err->num_warnings++;
}

static void pj_setup(struct jpeg_decompress_struct *d, pj_error *e, pj_info *info) {
	memset(d, 0, sizeof *d);
	memset(e, 0, sizeof *e);
	e->info = info;
	d->err = jpeg_std_error(&e->pub);
	e->pub.error_exit = pj_error_exit;
	e->pub.emit_message = pj_emit;
}

int pj_decode(const unsigned char *data, unsigned long size, int channels, unsigned char *out, int stride, pj_info *info) {
	struct jpeg_decompress_struct d;
	pj_error e;
	pj_setup(&d, &e, info);
	if (setjmp(e.jump)) {
		jpeg_destroy_decompress(&d);
		return -1;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, data, size);
	jpeg_read_header(&d, TRUE);
	// As OpenCV asks: the luma alone for gray (the chroma planes are not decoded), BGR
	// for colour, libjpeg's default IDCT and upsampling, so the pixels are OpenCV's.
	d.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_EXT_BGR;
	jpeg_start_decompress(&d);
	if ((int)d.output_width != info->width || (int)d.output_height != info->height || d.output_components != channels) {
		snprintf(info->msg, sizeof info->msg, "decoded %ux%u with %d channels, expected %dx%d with %d",
			d.output_width, d.output_height, d.output_components, info->width, info->height, channels);
		jpeg_destroy_decompress(&d);
		return -1;
	}
	while (d.output_scanline < d.output_height) {
		JSAMPROW row = out + (size_t)d.output_scanline * (size_t)stride;
		jpeg_read_scanlines(&d, &row, 1);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	return e.corrupt ? 1 : 0;
}
