package testutil

import (
	"bytes"
	"encoding/binary"
	"os"
)

// WriteMJPGAVI writes JPEG frames as an MJPG AVI (RIFF, an avih and one video stream
// header, the frames as 00dc chunks, an idx1 index), frames of any size: an MJPG stream
// carries each frame's size in its own JPEG header, which is how a camera or a recorder
// that changes resolution mid-stream writes them. The headers declare the first frame's
// size, as such a recorder's would. gocv's VideoWriter cannot write this: it takes frames
// of one size only.
func WriteMJPGAVI(path string, frames [][]byte, w, h int, fps int) error {
	le := binary.LittleEndian
	u32 := func(b *bytes.Buffer, v uint32) { binary.Write(b, le, v) } //nolint:errcheck // bytes.Buffer writes do not fail
	u16 := func(b *bytes.Buffer, v uint16) { binary.Write(b, le, v) } //nolint:errcheck
	chunk := func(b *bytes.Buffer, id string, body []byte) {
		b.WriteString(id)
		u32(b, uint32(len(body)))
		b.Write(body)
		if len(body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	list := func(kind string, body []byte) []byte {
		var b bytes.Buffer
		b.WriteString(kind)
		b.Write(body)
		var out bytes.Buffer
		chunk(&out, "LIST", b.Bytes())
		return out.Bytes()
	}
	maxLen := 0
	for _, f := range frames {
		maxLen = max(maxLen, len(f))
	}
	var avih bytes.Buffer
	u32(&avih, uint32(1_000_000/fps)) // microseconds per frame
	u32(&avih, 0)                     // max bytes per second
	u32(&avih, 0)                     // padding granularity
	u32(&avih, 0x10)                  // AVIF_HASINDEX
	u32(&avih, uint32(len(frames)))   // total frames
	u32(&avih, 0)                     // initial frames
	u32(&avih, 1)                     // streams
	u32(&avih, uint32(maxLen))        // suggested buffer size
	u32(&avih, uint32(w))
	u32(&avih, uint32(h))
	avih.Write(make([]byte, 16)) // reserved
	var strh bytes.Buffer
	strh.WriteString("vidsMJPG")
	u32(&strh, 0) // flags
	u16(&strh, 0) // priority
	u16(&strh, 0) // language
	u32(&strh, 0) // initial frames
	u32(&strh, 1) // scale
	u32(&strh, uint32(fps))
	u32(&strh, 0) // start
	u32(&strh, uint32(len(frames)))
	u32(&strh, uint32(maxLen))
	u32(&strh, 0xFFFFFFFF) // quality: default
	u32(&strh, 0)          // sample size: varies
	u16(&strh, 0)
	u16(&strh, 0)
	u16(&strh, uint16(w))
	u16(&strh, uint16(h))
	var strf bytes.Buffer // BITMAPINFOHEADER
	u32(&strf, 40)
	u32(&strf, uint32(w))
	u32(&strf, uint32(h))
	u16(&strf, 1)  // planes
	u16(&strf, 24) // bits per pixel
	strf.WriteString("MJPG")
	u32(&strf, uint32(3*w*h))
	strf.Write(make([]byte, 16)) // resolution, colours used, important
	var strl, hdrl bytes.Buffer
	chunk(&strl, "strh", strh.Bytes())
	chunk(&strl, "strf", strf.Bytes())
	chunk(&hdrl, "avih", avih.Bytes())
	hdrl.Write(list("strl", strl.Bytes()))
	var movi, idx bytes.Buffer
	for _, f := range frames {
		u32(&idx, le.Uint32([]byte("00dc")))
		u32(&idx, 0x10)                 // AVIIF_KEYFRAME
		u32(&idx, uint32(4+movi.Len())) // offset from the "movi" fourcc
		u32(&idx, uint32(len(f)))
		chunk(&movi, "00dc", f)
	}
	var body bytes.Buffer
	body.WriteString("AVI ")
	body.Write(list("hdrl", hdrl.Bytes()))
	body.Write(list("movi", movi.Bytes()))
	chunk(&body, "idx1", idx.Bytes())
	var file bytes.Buffer
	chunk(&file, "RIFF", body.Bytes())
	return os.WriteFile(path, file.Bytes(), 0o644)
}
