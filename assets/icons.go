package assets

import _ "embed"

// appIcon is the application icon, drawn by icons/gen.go (go run assets/icons/gen.go).
//
//go:embed icons/phytoscreen.png
var appIcon []byte

// AppIcon returns the application icon: a 512x512 PNG.
func AppIcon() []byte { return appIcon }
