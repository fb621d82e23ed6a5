package imagefile

import (
	"os"
	"testing"

	"gocv.io/x/gocv"
)

// BenchmarkJPEGDecode: the libjpeg decoder (jpegdec.go) beside OpenCV's imdecode on a
// real frame, gray and colour: the same library, so the same speed is the goal.
func BenchmarkJPEGDecode(b *testing.B) {
	data, err := os.ReadFile("../testdata/microscope/closterium-20230609124213.jpg")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		decode func([]byte, bool) (gocv.Mat, error)
	}{
		{"jpegdec", decodeJPEGMat},
		{"opencv", decodeJPEGOpenCV},
	} {
		for _, gray := range []bool{true, false} {
			name := c.name + "/colour"
			if gray {
				name = c.name + "/gray"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					m, err := c.decode(data, gray)
					if err != nil {
						b.Fatal(err)
					}
					m.Close()
				}
			})
		}
	}
}
