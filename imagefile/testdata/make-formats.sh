#!/usr/bin/env bash
# Writes the files of formats/ from two real crops of testdata/mixed-images, with
# ImageMagick 6 (convert) and, for the JPEG variants its libjpeg cannot write, by patching
# the start-of-frame marker of a real JPEG (the decoders refuse those at the header, so
# the scan data after it is never read). Run from imagefile/testdata.
set -euo pipefail
gray="../../testdata/mixed-images/good acantharia.jpg" # 74x54, gray
colour=../../testdata/mixed-images/colour.tif         # 41x43, RGB
out=formats
mkdir -p $out
convert "$gray" -colorspace gray -define quantum:format=floating-point -depth 32 $out/float32.tif 2>/dev/null || test -s $out/float32.tif # it warns of tag 317 and exits 1
convert "$gray" -colorspace gray -depth 32 $out/int32.tif
convert "$colour" -type TrueColor -compress JPEG $out/jpeg-compressed.tif
convert "$colour" -colorspace CMYK $out/cmyk.tif
convert "$colour" -type TrueColor -interlace plane $out/planar.tif
convert "$gray" -colorspace gray -alpha on -channel A -evaluate set 50% +channel $out/gray-alpha.tif
convert "$colour" TIFF64:$out/bigtiff.tif
convert "$colour" -colorspace CMYK $out/cmyk.jpg
convert "$gray" -compress RLE -type palette BMP3:$out/rle.bmp
convert "$gray" "$colour" "$gray" $out/stack3.tif # three pages: a stack
convert "$gray" -colorspace gray -alpha on -channel A -evaluate set 50% +channel -define png:color-type=4 $out/gray-alpha.png
# SOF0 (FF C0) of the 8-bit JPEG, then its precision byte (offset 4 from the marker).
python3 - "$gray" $out <<'PY'
import sys
src, out = sys.argv[1], sys.argv[2]
data = bytearray(open(src, "rb").read())
sof = data.index(b"\xff\xc0")
for name, marker, precision in [("12bit.jpg", 0xC1, 12), ("arithmetic.jpg", 0xC9, 8), ("lossless.jpg", 0xC3, 8)]:
    d = bytearray(data)
    d[sof + 1], d[sof + 4] = marker, precision
    open(f"{out}/{name}", "wb").write(d)
PY
# A TIFF whose Orientation tag (274) says "rotate 90° clockwise to display" (6, RightTop).
convert "$colour" -type TrueColor -orient RightTop $out/orientation6.tif
